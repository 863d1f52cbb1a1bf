/**
 * The composition of `sync --dry-run` on this machine, which must write nothing under the data
 * folder. The dry run reads only the state (docs/state.md), so only DynamoDB is started, and
 * never on the folder itself: LevelDB compacts and rewrites its files when it opens them, so an
 * existing state is copied to a temporary folder first and the server runs on the copy. A
 * folder with no archive yet gets an empty in-memory table: everything in iCloud is new. No
 * bucket, queue or folder is created, and no session stored (./dry-run-session-store.ts). Copies left by dry runs killed outright are removed first
 * (./dry-run-copies.ts).
 */
import { existsSync, rmSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import type { DryRunDeps } from '#app/dry-run.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { localAwsClientConfig } from '#local/servers/client-config.ts';
import { startDynamoDbServer } from '#local/servers/dynamodb-server.ts';
import { ensureStateTable } from '#local/servers/provision.ts';
import { cleanUpOnInterrupt } from '#shared/interrupt-cleanup.ts';
import { dryRunCopyPrefix, removeDeadDryRunCopies } from './dry-run-copies.ts';
import { dryRunSessionStore } from './dry-run-session-store.ts';
import { type IcloudAdapters, openIcloudAdapters } from './icloud-adapters.ts';
import type { LocalCompositionOptions } from './local.ts';
import { LOCAL_RESOURCES } from './local-resources.ts';
import { DEFAULT_SHARED_ALBUMS } from './shared-albums-option.ts';

export interface LocalDryRunComposition {
  readonly dryRun: DryRunDeps;
  /** The iCloud connection, opened on first use. */
  icloud(): Promise<IcloudAdapters>;
  /** Stops the server and removes the copy (the session's saves stay in memory). */
  close(): Promise<void>;
}

export async function composeLocalDryRun(options: LocalCompositionOptions): Promise<LocalDryRunComposition> {
  const stored = path.join(options.dataDir, 'aws', 'dynamodb');
  // Copies dry runs killed outright left (SIGKILL runs no cleanup): each a full copy of the state.
  await removeDeadDryRunCopies();
  const copy = existsSync(stored) ? await mkdtemp(dryRunCopyPrefix()) : undefined;
  // A process that exits before `close` (Ctrl-C's bounded wait ran out, an uncaught error) still
  // leaves no copy of the state behind: `exit` handlers run on `process.exit` too.
  const removeCopyAtExit = () => {
    if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
  };
  process.once('exit', removeCopyAtExit);
  const removeCopy = async () => {
    process.off('exit', removeCopyAtExit);
    if (copy !== undefined) await rm(copy, { recursive: true, force: true });
  };
  let server: Awaited<ReturnType<typeof startDynamoDbServer>> | undefined;
  let client: DynamoDBClient | undefined;
  const stop = async () => {
    client?.destroy();
    await server?.stop();
    await removeCopy();
  };
  try {
    if (copy !== undefined) await cp(stored, copy, { recursive: true });
    server = await startDynamoDbServer(copy === undefined ? {} : { directory: copy });
    const config = localAwsClientConfig({ s3: '', dynamodb: server.endpoint, sqs: '', secretsManager: '' });
    client = new DynamoDBClient(config.dynamodb);
    await ensureStateTable(client, LOCAL_RESOURCES.table);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const document = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  let opened: IcloudAdapters | undefined;
  const icloud = async () => {
    opened ??= await openIcloudAdapters({
      endpoint: options.endpoint,
      // Saves stay in memory: a dry run stores no session either.
      store: dryRunSessionStore(options.store),
      logger: options.logger,
      ...(options.observer ? { observer: options.observer } : {}),
    });
    return opened;
  };
  const close = async () => {
    forget();
    await stop();
  };
  // Ctrl-C: the server stopped, the copy removed.
  const forget = cleanUpOnInterrupt(close);
  const table = { client: document, tableName: LOCAL_RESOURCES.table };
  return {
    dryRun: {
      state: new DynamoDbSyncStateStore(table),
      icloud,
      deletePolicy: options.deletePolicy ?? DEFAULT_DELETE_POLICY,
      versionPolicy: options.versionPolicy ?? DEFAULT_VERSION_POLICY,
      // Read through the plan's own in-memory view (app/dry-run-shared-albums.ts): the copy is not written either.
      sharedAlbums: {
        ...(options.sharedAlbums ?? DEFAULT_SHARED_ALBUMS),
        state: new DynamoDbSharedAlbumStateStore(table),
      },
    },
    icloud,
    close,
  };
}
