/**
 * Opens an existing archive for the read-mostly commands (`status`, `verify`): its state store and
 * its object store, either the local stack under a folder (`--local DIR`) or the deployed stack's
 * bucket, table and queues with SDK clients from the default credential chain (`--aws`).
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbAlbumStore } from '#adapters/aws/dynamodb-album-store.ts';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import { type LocalAws, openLocalAws } from '#compose/local-aws-stack.ts';
import { InvalidInputError } from '#domain/errors.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { SessionStore } from '#ports/session-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import { ENV } from '#shared/env-names.ts';
import { ARCHIVE_S3_CLIENT_CONFIG } from './archive-s3-client.ts';
import { type AwsAccount, awsClientConfig } from './deployed-stack.ts';

/** Messages waiting in the work queue and in its dead-letter queue. */
export interface QueueDepth {
  readonly pending: number;
  readonly inFlight: number;
  readonly deadLetters: number;
}

export interface ArchiveAccess {
  /** `local archive at DIR` or `bucket NAME, table NAME`. */
  readonly where: string;
  readonly bucket: string;
  readonly state: SyncStateStore;
  /** Shared Albums' list and items (same table). */
  readonly sharedAlbumState?: SharedAlbumStateStore;
  /** Albums and their members, beside the sync state. */
  readonly albums: AlbumStore;
  readonly objects: ObjectStore;
  /** The session the pipeline uses, when this access knows where it is (Secrets Manager for `--aws`). */
  readonly session?: SessionStore;
  /** The work queue the download workers drain, when this access knows it (`verify --repair`). */
  readonly queue?: WorkQueue;
  /** The local data folder (`--local`), which also holds what local `sync` runs leave for the next. */
  readonly dataDir?: string;
  /** The local stack itself (`--local`): its queue is drained by this process, not by Lambda. */
  readonly localStack?: LocalAws;
  /** Queue depths, where they outlive a run (the local queue is in memory: none). */
  queueDepth?(): Promise<QueueDepth | undefined>;
  close(): Promise<void>;
}

/**
 * The local archive under `dataDir` (its servers started on first use, stopped by `close`).
 * @throws InvalidInputError when `dataDir` holds no local archive (no `aws/` folder).
 */
export async function openLocalArchive(dataDir: string): Promise<ArchiveAccess> {
  if (!existsSync(path.join(dataDir, 'aws'))) {
    throw new InvalidInputError(
      `no local archive at ${dataDir}: run "icloud-s3 sync --local ${dataDir}" first, or pass --local DIR`,
    );
  }
  const stack = await openLocalAws({ dataDir });
  return {
    where: `local archive at ${dataDir}`,
    dataDir,
    bucket: stack.bucket,
    state: stack.state,
    sharedAlbumState: stack.sharedAlbumState,
    albums: stack.albums,
    objects: stack.objects,
    queue: stack.queue,
    localStack: stack,
    close: () => stack.stop(),
  };
}

/** Names of the deployed stack's resources (its CloudFormation outputs). */
export interface AwsArchiveNames {
  readonly bucket: string;
  readonly table: string;
  readonly sessionSecretId?: string;
  readonly queueUrl?: string;
  readonly deadLetterQueueUrl?: string;
}

/** The names from options, else from the environment variables the Lambdas read. */
export function awsArchiveNames(
  options: Partial<AwsArchiveNames>,
  env: NodeJS.ProcessEnv = process.env,
): AwsArchiveNames {
  const bucket = options.bucket ?? env[ENV.archiveBucket];
  const table = options.table ?? env[ENV.stateTable];
  if (!bucket || !table) {
    throw new InvalidInputError(
      `--aws needs the bucket and table names: pass --bucket and --table (the stack outputs ArchiveBucketName and StateTableName) or set ${ENV.archiveBucket} and ${ENV.stateTable}`,
    );
  }
  const sessionSecretId = options.sessionSecretId ?? env[ENV.sessionSecretId];
  const queueUrl = options.queueUrl ?? env[ENV.workQueueUrl];
  return {
    bucket,
    table,
    ...(sessionSecretId ? { sessionSecretId } : {}),
    ...(queueUrl ? { queueUrl } : {}),
    ...(options.deadLetterQueueUrl ? { deadLetterQueueUrl: options.deadLetterQueueUrl } : {}),
  };
}

async function approximateCounts(sqs: SQSClient, queueUrl: string) {
  const output = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(output.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(output.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/**
 * The deployed archive, read with `account`'s region and profile, else the default credential
 * chain and region (AWS_PROFILE, AWS_REGION...). No request is sent until a store is used.
 */
export function openAwsArchive(names: AwsArchiveNames, account: AwsAccount = {}): ArchiveAccess {
  const config = awsClientConfig(account);
  const s3 = new S3Client({ ...config, ...ARCHIVE_S3_CLIENT_CONFIG });
  const dynamodb = new DynamoDBClient(config);
  const sqs = new SQSClient(config);
  const secrets = new SecretsManagerClient(config);
  const document = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const { queueUrl, deadLetterQueueUrl } = names;
  return {
    where: `bucket ${names.bucket}, table ${names.table}`,
    bucket: names.bucket,
    state: new DynamoDbSyncStateStore({ client: document, tableName: names.table }),
    sharedAlbumState: new DynamoDbSharedAlbumStateStore({ client: document, tableName: names.table }),
    albums: new DynamoDbAlbumStore({ client: document, tableName: names.table }),
    objects: new S3ObjectStore({ client: s3, bucket: names.bucket }),
    ...(queueUrl === undefined ? {} : { queue: new SqsWorkQueue({ client: sqs, queueUrl }) }),
    ...(names.sessionSecretId
      ? { session: new SecretsManagerSessionStore({ client: secrets, secretId: names.sessionSecretId }) }
      : {}),
    async queueDepth() {
      if (queueUrl === undefined) return undefined;
      const work = await approximateCounts(sqs, queueUrl);
      const dead =
        deadLetterQueueUrl === undefined ? undefined : await approximateCounts(sqs, deadLetterQueueUrl);
      return { pending: work.visible, inFlight: work.inFlight, deadLetters: dead?.visible ?? 0 };
    },
    async close() {
      for (const client of [s3, dynamodb, sqs, secrets]) client.destroy();
    },
  };
}
