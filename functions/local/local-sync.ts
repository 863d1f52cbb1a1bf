/**
 * One full pipeline run on this machine: the same handlers as in Lambda, against the local
 * S3/DynamoDB/SQS servers. It plays EventBridge (invokes the detector until it has caught up,
 * as successive schedule ticks would) and the SQS-to-Lambda trigger (pollers that invoke the
 * download handler with SQS events and delete what succeeded).
 *
 * The local SQS keeps messages in memory. What is still queued when a run ends (dead letters,
 * work a run that stopped for a sign-in did not drain) is parked in a file and put back by the next
 * run, which first redrives the dead letters the redrive policy says are due (self-healing). A run
 * that was killed before it could park its queue would lose work whose tokens had already
 * advanced, so an unclean previous run (its marker file is still there) makes this run
 * re-enumerate every zone: the archive skips what it already has and fetches only what is missing.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type AlbumViewResult, refreshAlbumViews } from '#app/album-views.ts';
import { foldCatalog } from '#app/catalog-upkeep.ts';
import type { DetectionRunResult } from '#app/detection-run.ts';
import type { DownloadBatchDeps, ItemProgress } from '#app/download-batch.ts';
import type { DryRunReport } from '#app/dry-run.ts';
import type { SharedAlbumPlan } from '#app/dry-run-shared-albums.ts';
import { redriveDeadLetters } from '#app/redrive-dead-letters.ts';
import type { IcloudAdapters } from '#compose/icloud-adapters.ts';
import { composeLocal, type LocalCompositionOptions } from '#compose/local.ts';
import type { LocalAws, LocalSqs } from '#compose/local-aws-stack.ts';
import { OTHER_ACCOUNT } from '#domain/account/archive-owner.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import type { ChangeKind } from '#domain/classify-change.ts';
import { DETECTION_LOCK } from '#domain/detect/detect-changes.ts';
import { AccountConditionError, SessionExpiredError } from '#domain/errors.ts';
import type { SettingsNotice } from '#domain/model/archive-settings.ts';
import { isLibraryWorkItem, type WorkMessage } from '#domain/model/work.ts';
import type { LimitsToAllow } from '#domain/plan/delete-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import { errorMessage } from '#shared/redact.ts';
import { createLambdaContext } from './lambda-context.ts';
import { type ParkedWork, parkQueuedWork, readParkedWork, restoreParkedWork } from './parked-work.ts';
import { type SharedAlbumsSummary, SharedAlbumTally } from './shared-album-counts.ts';
import { readSyncMarker, SYNC_MARKER } from './sync-marker.ts';
import { WorkArrivals } from './work-arrivals.ts';

/** What to sync and how; the state and the archive live under `dataDir` (the next run is incremental). */
export interface LocalSyncOptions extends LocalCompositionOptions {
  /** Walk what would change and plan it; write nothing, download nothing. */
  readonly dryRun?: boolean;
  /** Parallel download pollers (Lambda's event-source concurrency). */
  readonly concurrency?: number;
  /** A detector invocation's time limit (Lambda's timeout). */
  readonly detectTimeoutMs?: number;
  readonly onProgress?: (progress: SyncProgress) => void;
}

export interface SyncProgress {
  readonly phase: 'detecting' | 'downloading' | 'done';
  readonly itemsEnqueued: number;
  readonly itemsDone: number;
  readonly bytesArchived: number;
  /** Bytes streamed from Apple's CDN so far, counted as they pass (advances within a file). */
  readonly bytesDownloaded: number;
  /** What the enqueued work may download: an upper bound (archived versions are skipped). */
  readonly bytesExpected: number;
  /**
   * Detection is still finding work while this is downloaded (the two run at once):
   * `itemsEnqueued` and `bytesExpected` may still grow.
   */
  readonly stillDetecting?: boolean;
}

export interface SyncSummary {
  /**
   * `deletionRefused`: the mirror safety stop refused the run (see `deletionRefused`); nothing
   * past the refused page was deleted and the next run meets the same stop until the limit is raised.
   */
  readonly outcome: 'succeeded' | 'partial' | 'idle' | 'reauthRequired' | 'deletionRefused' | 'dryRun';
  readonly dryRun: boolean;
  readonly detectRuns: number;
  readonly itemsEnqueued: number;
  readonly assets: {
    readonly archived: number;
    readonly skipped: number;
    readonly updated: number;
    readonly failed: number;
    /** Purged in iCloud and removed from the archive (`mirror`). */
    readonly deleted: number;
    /** Purged in iCloud and kept in the archive (`keep`): nothing was deleted. */
    readonly purgedKept?: number;
    /**
     * Objects (files) the run's purges deleted (`mirror`): `deleted` counts photos, and a purged
     * photo whose files another live photo still uses (a duplicate, a library reset's new asset)
     * deletes none. Absent when none.
     */
    readonly objectsDeleted?: number;
    /** Archived but for versions iCloud lists without a download URL: pending until Apple offers one. */
    readonly awaitingUrl?: number;
  };
  readonly versionsArchived: number;
  readonly bytesArchived: number;
  readonly appleRequests: Readonly<Record<string, number>>;
  readonly appleRequestsTotal: number;
  readonly durationMs: number;
  /** Work messages in the dead-letter queue at the end (each failed five times), parked for the next runs. */
  readonly deadLetters: number;
  /** Dead-lettered work this run sent back to the work queue (self-healing). */
  readonly workRedriven?: number;
  /** Dead-lettered work past its last redrive: its photos went to the failed photos' retry list. */
  readonly workGivenUp?: number;
  /** Work left queued and unfinished (the run stopped for a sign-in): the next run does it first. */
  readonly workParked?: number;
  readonly failures: readonly { readonly subject: string; readonly reason: string }[];
  /** What the run's changes were, by kind (`new`, `edited`, `trashed`, `metadataChanged`...). */
  readonly changes?: Readonly<Partial<Record<ChangeKind, number>>>;
  /** When the session needs a person: what to run. */
  readonly action?: string;
  /** The numbers of a refused mass deletion (outcome `deletionRefused`). */
  readonly deletionRefused?: {
    readonly wouldDelete: number;
    readonly archiveObjects: number;
    readonly limit: number;
    /** Objects queued for deletion before the stop (0: nothing was deleted). */
    readonly queued: number;
    /** The least limits that let it through: `--max-delete-count`, `--max-delete-fraction` (each when needed). */
    readonly allow?: LimitsToAllow;
  };
  readonly message?: string;
  /** What the album-view pass did (albums known, views written and removed). */
  readonly albumViews?: AlbumViewResult;
  /**
   * A setting that shapes the archive changed with this run (the version policy widened, sidecars
   * or mirror switched on): what the photos archived before lack, and what to run, if anything.
   */
  readonly settingsChanged?: readonly SettingsNotice[];
  /**
   * What the Shared Albums step stored (a dry run: would store), apart from the library's counts
   * above; absent when it stored, updated and removed nothing.
   */
  readonly sharedAlbums?: SharedAlbumsSummary;
  /**
   * A dry run on a session that names no Shared Albums service asked the account for it, as a
   * run does: `found` (a run stores it in the session), `none` (a run remembers that for a day).
   */
  readonly sharedAlbumsServiceLookup?: 'found' | 'none';
}

export type { SharedAlbumsSummary } from './shared-album-counts.ts';

/** Present while the catalog's journal may hold work a fold has not finished (docs/archive-layout.md#9-the-catalog). */
const CATALOG_PENDING = 'catalog-pending';
const PROGRESS_INTERVAL_MS = 200;
const MAX_DETECT_RUNS = 1000;

/** Re-enumerates every zone (after an unclean stop): keeps the archive, re-walks the library. */
async function forgetZoneTokens(state: SyncStateStore): Promise<void> {
  for (const zone of await state.loadZones()) {
    if (zone.retired) continue;
    await state.saveZone({ zone: zone.zone }, zone.revision);
  }
}

/**
 * Hands Shared Albums' unfinished work out again (after an unclean stop): the items the killed run
 * had queued died with its in-memory queue, and the state says they were handed out moments ago,
 * which holds them back for `REQUEUE_AFTER_MS` (an hour) otherwise. Albums archived at their ctag
 * stay as they are; the workers skip the items they already stored.
 */
async function forgetSharedAlbumHandOuts(store: SharedAlbumStateStore): Promise<void> {
  const state = await store.loadAlbums();
  if (state === undefined) return;
  const handedOut = Object.values(state.albums).some((a) => a.enqueuedAt !== undefined);
  if (!handedOut) return;
  const { revision, ...rest } = state;
  const albums = Object.fromEntries(
    Object.entries(state.albums).map(([guid, { enqueuedCtag: _ctag, enqueuedAt: _at, ...album }]) => [
      guid,
      album,
    ]),
  );
  await store.saveAlbums({ ...rest, albums }, revision);
}

/**
 * A run killed during detection still holds the detection lock for its whole lease (16 min):
 * every sync until then would find it locked and do nothing. Its process is gone, so the lock is
 * stale; take it over. Gone whatever the marker's PID shows: this run holds the local DynamoDB's
 * LevelDB `LOCK`, which no other command on this folder can hold at once (finding 38), so a live
 * process under that PID is another one that got the number (a container's PID 1, PIDs starting
 * over after a reboot, this very process), never a sync on this folder.
 */
async function breakDeadRunsLock(state: SyncStateStore): Promise<void> {
  const attempt = await state.acquireLock(DETECTION_LOCK, 'local-recovery', 1);
  const lease = attempt.acquired
    ? attempt.lease
    : { name: DETECTION_LOCK, owner: attempt.heldBy, expiresAt: attempt.expiresAt };
  await state.releaseLock(lease);
}

export async function runLocalSync(options: LocalSyncOptions): Promise<SyncSummary> {
  const started = Date.now();
  if (options.dryRun) return await dryRun(options, started);
  await mkdir(options.dataDir, { recursive: true });
  // Bytes as they stream: the bar moves within a long video, not only when a message finishes.
  const bytes = { downloaded: 0, expected: 0, reportedAt: 0 };
  let onBytes = () => {};
  let onWorkEnqueued = (_messages: readonly WorkMessage[]) => {};
  const local = await composeLocal({
    ...options,
    onWorkEnqueued: (messages) => onWorkEnqueued(messages),
    onBytesDownloaded: (n) => {
      bytes.downloaded += n;
      onBytes();
    },
    onBytesExpected: (n) => {
      bytes.expected += n;
    },
  });
  const { stack } = local;
  const marker = path.join(options.dataDir, SYNC_MARKER);
  try {
    const lastRun = await readSyncMarker(options.dataDir);
    if (lastRun !== undefined) {
      options.logger.warn(
        'the previous sync did not finish: re-walking the library to find anything it left undone',
      );
      await forgetZoneTokens(stack.state);
      await forgetSharedAlbumHandOuts(stack.sharedAlbumState);
      await breakDeadRunsLock(stack.state);
    }
    await writeFile(marker, `${new Date().toISOString()}\n${process.pid}\n`);
    // What the previous run left queued, back on the queues; then the dead letters that are due.
    // With nothing parked the queues stay empty, and SQS unstarted until detection enqueues.
    const parkedBefore = await readParkedWork(options.dataDir);
    if (parkedBefore.deadLetters.length + parkedBefore.unfinished.length > 0) {
      const sqs = await stack.sqs();
      await restoreParkedWork(sqs.client, sqs.queues, parkedBefore);
    }
    const healing = await redriveDeadLetters(local.redrive);

    const totals = {
      archived: 0,
      skipped: 0,
      updated: 0,
      failed: 0,
      deleted: 0,
      purgedKept: 0,
      objectsDeleted: 0,
      awaitingUrl: 0,
      versions: 0,
      bytes: 0,
      done: 0,
    };
    const failures: { subject: string; reason: string }[] = [];
    const changes: Partial<Record<ChangeKind, number>> = {};
    // The Shared Albums' work is counted in the run records alone (app/shared-albums-work.ts).
    const shared = new SharedAlbumTally();
    // A detection run handed Shared Album work out (an album's view changes with it, even when no item does).
    let sharedChanged = false;
    let itemsEnqueued = 0;
    // Items as each is done (its manifest entry written), not when its whole message is: what
    // Ctrl-C reports as archived is. Settled against the messages' results (app/download-batch.ts),
    // it ends equal to the summary's figures. `enqueued`: the library items detection has put on
    // the queue so far (as its runs count them), while it still pages and the pollers download.
    const live = { items: 0, bytes: 0, enqueued: 0 };
    // Work detection is still putting on the queue: the pollers wait for it rather than end.
    const arrivals = new WorkArrivals();
    // Detection and downloads run at once: the bar shows once something is downloaded, with
    // what detection has found so far; before that, what detection has found.
    const report = (phase: 'done' | 'running') =>
      options.onProgress?.({
        phase:
          phase === 'done' ? 'done' : live.items > 0 || bytes.downloaded > 0 ? 'downloading' : 'detecting',
        itemsEnqueued: live.enqueued,
        itemsDone: live.items,
        bytesArchived: live.bytes,
        bytesDownloaded: bytes.downloaded,
        bytesExpected: bytes.expected,
        ...(phase === 'running' && arrivals.producing() ? { stillDetecting: true } : {}),
      });
    onBytes = () => {
      // A few redraws a second are enough; a chunk arrives every few kilobytes.
      const now = Date.now();
      if (now - bytes.reportedAt < PROGRESS_INTERVAL_MS) return;
      bytes.reportedAt = now;
      report('running');
    };

    const onItemProgress = (change: ItemProgress) => {
      live.items += change.items;
      live.bytes += change.bytesArchived;
      report('running');
    };
    const detect = createDetectHandler(local.detection);
    // A delivery that ended because a person must sign in stops the run as detection's sign-in
    // does: no new messages, the queue parked for the run after the login.
    let signInNeeded:
      | { readonly message: string; readonly action: string; readonly condition?: string }
      | undefined;
    const composed = local.downloads(
      (result: MessageResult) => {
        totals.archived += result.archived;
        totals.skipped += result.unchanged;
        totals.updated += result.updated;
        totals.deleted += result.purged;
        totals.purgedKept += result.purgedKept;
        totals.objectsDeleted += result.objectsDeleted ?? 0;
        totals.awaitingUrl += result.awaitingUrl?.length ?? 0;
        totals.failed += result.failed;
        totals.versions += result.versionsArchived;
        totals.bytes += result.bytesArchived;
        for (const [kind, n] of Object.entries(result.changes) as [ChangeKind, number][]) {
          changes[kind] = (changes[kind] ?? 0) + n;
        }
        totals.done += result.items;
        failures.push(...result.failures);
      },
      onItemProgress,
      (counts) => shared.add(counts),
    );
    const concurrency = options.concurrency ?? 4;
    const downloads: DownloadBatchDeps = {
      ...composed,
      onSignInNeeded: (error) => {
        signInNeeded ??= {
          message: errorMessage(error),
          action: error instanceof SessionExpiredError ? error.action : 'icloud-s3 login',
          ...(error instanceof AccountConditionError ? { condition: error.condition } : {}),
        };
        // Idle pollers waiting for detection's next page stop now.
        arrivals.announce();
      },
    };
    /** Detection failed: the pollers take no new batch, and the run ends with its error. */
    let detectionFailed = false;
    const stopped = () => signInNeeded !== undefined || detectionFailed;
    // The download side (Powertools' batch processor, the SQS poller) is loaded with the first work.
    let download: Promise<(sqs: LocalSqs) => Promise<void>> | undefined;
    const drain = async () => {
      if (!stack.sqsStarted()) return;
      download ??= Promise.all([
        import('#entry/lambda/download-handler.ts'),
        import('./drain-work-queue.ts'),
        import('#domain/archive/item-slots.ts'),
      ]).then(([{ createDownloadHandler }, { pollUntilEmpty }, { ItemSlots }]) => {
        // `--concurrency` downloads at once in all, not per poller: each batch would run 8.
        const handler = createDownloadHandler({ ...downloads, itemSlots: new ItemSlots(concurrency) });
        return (sqs: LocalSqs) => pollUntilEmpty(sqs, handler, concurrency, stopped, arrivals);
      });
      await (await download)(await stack.sqs());
    };
    // The pollers start with the first work on the queue (what a previous run parked, or
    // detection's first page) and download while detection pages on, as Lambda's workers do.
    let draining: Promise<void> | undefined;
    const startDownloads = () => {
      if (draining !== undefined) return;
      draining = drain();
      // Awaited once detection has ended; until then a failure must not go unhandled.
      draining.catch(() => undefined);
    };
    onWorkEnqueued = (messages) => {
      live.enqueued += messages.reduce((n, m) => n + m.items.filter(isLibraryWorkItem).length, 0);
      arrivals.announce();
      startDownloads();
      report('running');
    };
    if (stack.sqsStarted()) startDownloads();

    let detectRuns = 0;
    let last: DetectionRunResult | undefined;
    const settingsChanged: SettingsNotice[] = [];
    try {
      for (; detectRuns < MAX_DETECT_RUNS; ) {
        report('running');
        detectRuns++;
        last = await detect(
          {},
          createLambdaContext('detect-changes', options.detectTimeoutMs ?? 15 * 60 * 1000),
        );
        if (last.outcome === 'reauthRequired') {
          signInNeeded = {
            message: last.message,
            action: last.action,
            ...(last.condition === undefined ? {} : { condition: last.condition }),
          };
          break;
        }
        if ('itemsEnqueued' in last) itemsEnqueued += last.itemsEnqueued;
        if ('sharedAlbums' in last && last.sharedAlbums?.outcome === 'changed') sharedChanged = true;
        if ('settingsChanged' in last) settingsChanged.push(...(last.settingsChanged ?? []));
        // A refused run still drains what its earlier pages put on the queue: their tokens moved on.
        if (signInNeeded !== undefined || last.outcome !== 'continued') break;
      }
    } catch (error) {
      // The batches under way finish (their messages deleted or back on the queue); none starts.
      detectionFailed = true;
      arrivals.finish();
      await draining?.catch(() => undefined);
      throw error;
    }
    arrivals.finish();
    // Work on the queue that no enqueue announced (a batch a failed enqueue stored in part).
    if (stack.sqsStarted()) startDownloads();
    await draining;
    // The workers have settled what the detection runs journalled: bring the catalog up to date.
    // Only when there can be a journal (work enqueued now, or a fold left unfinished before), so
    // an idle run lists nothing and starts no local S3. Work counted as it was enqueued too: a run
    // that refused a mass deletion reports no count, but its earlier pages journalled their work.
    const catalogPending = path.join(options.dataDir, CATALOG_PENDING);
    const foldWhenPending = async () => {
      if (itemsEnqueued === 0 && live.enqueued === 0 && !existsSync(catalogPending)) return;
      await writeFile(catalogPending, `${new Date().toISOString()}\n`);
      const folded = await foldCatalog(local.catalog, 'local-sync').catch((error: unknown) => {
        options.logger.warn('catalog not folded', { error });
        return undefined;
      });
      const finished =
        folded !== undefined &&
        (folded.outcome === 'nothingToFold' || (folded.outcome === 'folded' && folded.assetsCarried === 0));
      if (finished) await rm(catalogPending, { force: true });
    };
    // Album views last, once the photos they list are archived (an idle run writes none). They and
    // the catalog are derived from the same settled state into objects of their own (albums/,
    // catalog/): built side by side, the run's tail is the longer of the two, not their sum.
    const [folding, viewing] = await Promise.allSettled([
      foldWhenPending(),
      signInNeeded !== undefined
        ? Promise.resolve(undefined)
        : // One album at a time: the fold beside them is the tail (album-views.ts, ALBUM_VIEWS_AT_ONCE).
          refreshAlbumViews({
            albums: local.albums,
            state: stack.state,
            objects: stack.objects,
            albumsAtOnce: 1,
          }),
    ]);
    if (folding.status === 'rejected') throw folding.reason;
    if (viewing.status === 'rejected') throw viewing.reason;
    const albumViews = viewing.value;
    report('done');
    const { parked, leftOver } = await parkWork(local.stack, options.dataDir);
    const deadLetters = parked.deadLetters.length;
    if (leftOver === 0) await rm(marker, { force: true });
    else options.logger.warn('work still in flight at the end of the run: the next run re-walks the library');
    const icloud = local.openedIcloud();
    const appleRequests = icloud?.requests.counts() ?? {};
    const sharedAlbums = shared.summary();
    const base = {
      dryRun: false,
      detectRuns,
      itemsEnqueued,
      assets: {
        archived: totals.archived,
        skipped: totals.skipped,
        updated: totals.updated,
        failed: totals.failed,
        deleted: totals.deleted,
        purgedKept: totals.purgedKept,
        ...(totals.objectsDeleted > 0 ? { objectsDeleted: totals.objectsDeleted } : {}),
        ...(totals.awaitingUrl > 0 ? { awaitingUrl: totals.awaitingUrl } : {}),
      },
      versionsArchived: totals.versions,
      bytesArchived: totals.bytes,
      appleRequests,
      appleRequestsTotal: icloud?.requests.total() ?? 0,
      durationMs: Date.now() - started,
      deadLetters,
      workRedriven: healing.redriven,
      workGivenUp: healing.givenUp,
      workParked: parked.unfinished.length,
      failures: failures.slice(0, 50),
      changes,
      ...(albumViews === undefined ? {} : { albumViews }),
      ...(sharedAlbums === undefined ? {} : { sharedAlbums }),
      ...(settingsChanged.length > 0 ? { settingsChanged } : {}),
    };
    if (signInNeeded?.condition === OTHER_ACCOUNT && totals.done === 0) {
      // Another Apple ID's session over this archive: nothing was read or written. Not a sign-in
      // to ask for (a login with the same session would loop): the account error, exit 4.
      throw new AccountConditionError(OTHER_ACCOUNT, signInNeeded.message);
    }
    if (signInNeeded !== undefined) {
      return {
        ...base,
        outcome: 'reauthRequired',
        action: signInNeeded.action,
        message: signInNeeded.message,
      };
    }
    if (last?.outcome === 'deletionRefused') {
      const { wouldDelete, archiveObjects, limit, queued, allow } = last;
      return {
        ...base,
        outcome: 'deletionRefused',
        message: last.message,
        deletionRefused: { wouldDelete, archiveObjects, limit, queued, allow },
      };
    }
    const unfinished = deadLetters > 0 || totals.failed > 0 || parked.unfinished.length > 0;
    // An idle library with redriven work done, or Shared Albums' work, is not "nothing changed": the archive did.
    const outcome =
      last?.outcome === 'idle' &&
      totals.done === 0 &&
      !unfinished &&
      !sharedChanged &&
      sharedAlbums === undefined
        ? 'idle'
        : unfinished || (last?.outcome !== 'caughtUp' && last?.outcome !== 'idle')
          ? 'partial'
          : 'succeeded';
    return { ...base, outcome };
  } finally {
    await local.close();
  }
}

/**
 * Parks what is left on the queues (`parked-work.ts`); `leftOver` counts what is still on them
 * (in flight, so not parked: the next run re-walks to find it). Queues never started hold
 * nothing, and the parked file, read at the start and empty, stays as it is.
 */
async function parkWork(stack: LocalAws, dataDir: string): Promise<{ parked: ParkedWork; leftOver: number }> {
  if (!stack.sqsStarted()) return { parked: { v: 1, deadLetters: [], unfinished: [] }, leftOver: 0 };
  const sqs = await stack.sqs();
  const parked = await parkQueuedWork(sqs.client, sqs.queues, dataDir);
  const { countMessages } = await import('./drain-work-queue.ts');
  const counts = await Promise.all([
    countMessages(sqs, sqs.queues.queueUrl),
    countMessages(sqs, sqs.queues.deadLetterQueueUrl),
  ]);
  const leftOver = counts[0] + counts[1];
  return { parked, leftOver };
}

/** A dry run writes nothing under `dataDir`: it plans over a copy of the state (or an empty one). */
async function dryRun(options: LocalSyncOptions, started: number): Promise<SyncSummary> {
  const [{ composeLocalDryRun }, { runDryRun }] = await Promise.all([
    import('#compose/local-dry-run.ts'),
    import('#app/dry-run.ts'),
  ]);
  const local = await composeLocalDryRun(options);
  try {
    return summarizeDryRun(await runDryRun(local.dryRun), await local.icloud(), started);
  } finally {
    await local.close();
  }
}

function summarizeDryRun(report: DryRunReport, icloud: IcloudAdapters, started: number): SyncSummary {
  return {
    outcome: report.outcome,
    dryRun: true,
    detectRuns: 1,
    itemsEnqueued: report.items,
    assets: { ...report.assets, failed: 0 },
    versionsArchived: report.versions,
    bytesArchived: report.bytes,
    appleRequests: icloud.requests.counts(),
    appleRequestsTotal: icloud.requests.total(),
    durationMs: Date.now() - started,
    deadLetters: 0,
    failures: [],
    ...(report.sharedAlbums === undefined || report.sharedAlbums.albumsChanged === 0
      ? {}
      : { sharedAlbums: plannedSharedAlbums(report.sharedAlbums) }),
    ...(report.sharedAlbums?.serviceLookup === undefined
      ? {}
      : { sharedAlbumsServiceLookup: report.sharedAlbums.serviceLookup }),
  };
}

/** The dry run's Shared Albums plan in the summary's shape (the albums' count is the plan's own). */
function plannedSharedAlbums(plan: SharedAlbumPlan): SharedAlbumsSummary {
  const { albumsChanged: _albums, serviceLookup: _lookup, ...items } = plan;
  return items;
}
