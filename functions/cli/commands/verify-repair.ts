/**
 * The `--repair` half of `icloud-s3 verify`: runs the repair use case (`#app/repair.ts`) on what
 * verify found and, for a local archive, plays the download workers until the re-archive work is
 * done; with `--aws` the deployed workers take it from the stack's queue.
 */
import { type RepairOutcome, runRepair } from '#app/repair.ts';
import type { ArchiveAccess } from '#compose/archive-access.ts';
import { localDownloadDeps } from '#compose/local-workers.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import type { LiveVideoName } from '#domain/plan/live-video-name.ts';
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import type { SharedAlbumsCheck } from '#domain/shared-albums/verify-shared-albums.ts';
import type { VerifyReport } from '#domain/verify/verify-report.ts';
import { drainWorkQueue } from '#local/drain-work-queue.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import type { Logger } from '#shared/logger.ts';
import { UsageError } from '../io/exit-codes.ts';
import type { Output } from '../io/output.ts';
import { formatBytes } from '../io/progress-line.ts';
import { plural } from '../io/words.ts';

/** What the local workers did with the repair's work (absent with `--aws`: the deployed workers do it). */
export interface RepairWork {
  readonly archived: number;
  readonly versionsArchived: number;
  readonly bytesArchived: number;
  readonly failed: number;
  readonly deadLetters: number;
  readonly failures: readonly { readonly subject: string; readonly reason: string }[];
}

export interface RepairResult extends RepairOutcome {
  /** `local`: this process archived the work; `deployed`: it waits on the stack's queue. */
  readonly workers: 'local' | 'deployed';
  readonly work?: RepairWork;
  /** Findings still standing once repair is done (or, with `--aws`, once the workers are). */
  readonly left: number;
}

export interface RepairCommandOptions {
  readonly icloud: () => Promise<IcloudConnection>;
  readonly versionPolicy: VersionPolicy;
  /** How a HEIC Live Photo video archived for the first time is named (`suffix` when absent). */
  readonly liveVideoName?: LiveVideoName;
  readonly deletePolicy: DeletePolicy;
  readonly logger: Logger;
}

/** The queue to put the work on; a usage error when `access` knows none. */
export function repairQueue(access: ArchiveAccess): WorkQueue {
  if (access.queue === undefined) {
    throw new UsageError(
      '--repair --aws needs the work queue: pass --queue-url (stack output WorkQueueUrl) or let --stack name it',
    );
  }
  return access.queue;
}

export async function repairArchive(
  access: ArchiveAccess,
  report: VerifyReport,
  options: RepairCommandOptions,
  /** Verify's Shared Albums check: its broken objects are stored again by their albums' next pass. */
  shared?: SharedAlbumsCheck,
): Promise<RepairResult> {
  const queue = repairQueue(access);
  const outcome = await runRepair(
    {
      state: access.state,
      objects: access.objects,
      queue,
      icloud: options.icloud,
      versionPolicy: options.versionPolicy,
      deletePolicy: options.deletePolicy,
      ...(access.sharedAlbumState ? { sharedAlbumState: access.sharedAlbumState } : {}),
    },
    report,
    shared,
  );
  // Objects under shared-albums/ that no item lists are reported, not removed.
  const standing = outcome.unrepairable.length + outcome.kept.length + (shared?.extra.length ?? 0);
  if (access.localStack === undefined) return { ...outcome, workers: 'deployed', left: standing };
  const work = {
    archived: 0,
    versionsArchived: 0,
    bytesArchived: 0,
    failed: 0,
    failures: [] as { subject: string; reason: string }[],
  };
  const { deadLetters } = await drainWorkQueue(
    access.localStack,
    localDownloadDeps({
      state: access.state,
      objects: access.objects,
      icloud: options.icloud,
      continuation: access.localStack.queue,
      versionPolicy: options.versionPolicy,
      ...(options.liveVideoName === undefined ? {} : { liveVideoName: options.liveVideoName }),
      deleteMode: options.deletePolicy.mode,
      logger: options.logger,
      ...(access.sharedAlbumState
        ? {
            sharedAlbums: {
              state: access.sharedAlbumState,
              deletePolicy: options.deletePolicy,
              comments: true,
            },
          }
        : {}),
      onMessage: (result) => {
        work.archived += result.archived;
        work.versionsArchived += result.versionsArchived;
        work.bytesArchived += result.bytesArchived;
        work.failed += result.failed;
        work.failures.push(...result.failures);
      },
    }),
  );
  return {
    ...outcome,
    workers: 'local',
    work: { ...work, deadLetters },
    left: standing + work.failed + deadLetters,
  };
}

const SHOWN = 20;

/** Says what repair did; with `found` false (verify found nothing to fix) only the keys it recorded. */
export function renderRepair(output: Output, result: RepairResult, found = true): void {
  if (result.objectKeysRecorded > 0)
    output.step(
      `recorded where ${plural(result.objectKeysRecorded, 'object')} archived before 2026-12-07 ${result.objectKeysRecorded === 1 ? 'is' : 'are'} stored`,
    );
  if (!found) return;
  for (const asset of result.requeued.slice(0, SHOWN)) {
    const objects = asset.objects.map((o) => `${o.key} (${o.reason})`).join(', ');
    output.step(
      `re-archiving ${asset.assetRecordName}${objects ? `: ${objects}` : ''}${asset.notArchived ? ' (not archived yet)' : ''}`,
    );
  }
  if (result.requeued.length > SHOWN) output.step(`… and ${result.requeued.length - SHOWN} more assets`);
  for (const object of result.sharedReplaced.slice(0, SHOWN))
    output.step(`storing Shared Album object ${object.key} again (${object.reason})`);
  if (result.sharedReplaced.length > SHOWN)
    output.step(`… and ${result.sharedReplaced.length - SHOWN} more Shared Album objects`);
  for (const key of result.removed) output.step(`removed stray object ${key}`);
  for (const added of result.metadataAdded.slice(0, SHOWN))
    output.step(`added md5chksum and icloud-sha256 to ${added.key}`);
  if (result.metadataAdded.length > SHOWN)
    output.step(`… and md5chksum and icloud-sha256 added to ${result.metadataAdded.length - SHOWN} more`);
  for (const item of result.metadataNotAdded.slice(0, SHOWN))
    output.warn(`no metadata added to ${item.subject}: ${item.reason}`);
  for (const kept of result.kept.slice(0, SHOWN)) output.warn(`left ${kept.subject}: ${kept.reason}`);
  if (result.kept.length > SHOWN)
    output.warn(`… and ${result.kept.length - SHOWN} more left (--json lists all)`);
  for (const item of result.unrepairable.slice(0, SHOWN))
    output.warn(`cannot repair ${item.subject}: ${item.reason}`);
  if (result.unrepairable.length > SHOWN)
    output.warn(`… and ${result.unrepairable.length - SHOWN} more not repaired (--json lists all)`);
  if (result.workers === 'deployed') {
    output.info(
      `Repair queued ${result.itemsEnqueued} assets (${result.messagesSent} messages) for the deployed workers, removed ${result.removed.length} stray objects and added MD5 and SHA-256 metadata to ${plural(result.metadataAdded.length, 'object')}; run verify again once the queue is empty.`,
    );
    return;
  }
  const work = result.work;
  if (work !== undefined) {
    for (const failure of work.failures.slice(0, 5)) output.warn(`${failure.subject}: ${failure.reason}`);
    if (work.deadLetters > 0)
      output.warn(`${work.deadLetters} work messages ended in the dead-letter queue.`);
  }
  const metadata =
    result.metadataAdded.length > 0
      ? `, added MD5 and SHA-256 metadata to ${plural(result.metadataAdded.length, 'object')}`
      : '';
  const shared =
    result.sharedReplaced.length > 0
      ? `, stored ${plural(result.sharedReplaced.length, 'Shared Album object')} again`
      : '';
  const summary = `re-archived ${plural(work?.versionsArchived ?? 0, 'object')} of ${plural(result.itemsEnqueued, 'asset')} (${formatBytes(work?.bytesArchived ?? 0)}), removed ${plural(result.removed.length, 'stray object')}${metadata}${shared}`;
  if (result.left === 0) output.success(`Repaired: ${summary}.`);
  else output.error(`Repair ${summary}; ${plural(result.left, 'finding')} remain (listed above).`);
}
