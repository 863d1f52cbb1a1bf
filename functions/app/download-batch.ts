/**
 * One download batch (the download worker's use case): each message is one work message,
 * processed by the archive domain. A message whose processing rejects is redelivered by the
 * caller's transport (SQS, then the dead-letter queue); so is a message that cannot be read
 * (counted in `workMessagesRejected`: the dead-letter queue keeps it for a person); a session that needs a human fails the rest of the batch
 * at once and emits the metric the alarm watches. Knows nothing of Lambda or SQS.
 */

import { setMaxListeners } from 'node:events';
import { checkArchiveOwner } from '#domain/account/archive-owner.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { ItemSlots } from '#domain/archive/item-slots.ts';
import { type MessageResult, processWorkMessage } from '#domain/archive/process-work-message.ts';
import { classifyError, SignInLatchedError } from '#domain/errors.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { GoneNotRecordedError, LibraryTwinPendingError } from '#domain/shared-albums/errors.ts';
import type { IcloudDownloadConnection } from '#ports/icloud-connection.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import { METRICS } from '#shared/env-names.ts';
import type { Logger } from '#shared/logger.ts';
import type { PipelineMetrics } from '#shared/pipeline-metrics.ts';
import { journalLateWork } from './catalog-journal-writes.ts';
import { refreshFromLookup } from './refresh-from-lookup.ts';
import type { SharedAlbumWorkerSettings } from './shared-albums-work.ts';

export interface DownloadBatchDeps {
  readonly archive: Omit<ArchiveDeps, 'downloader' | 'refresh' | 'signal'>;
  readonly icloud: () => Promise<IcloudDownloadConnection>;
  /** Reads a message body (the queue adapter's codec); throws when the body is not ours. */
  readonly decode: (body: string) => WorkMessage;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  /** Milliseconds before the deadline at which in-flight uploads are aborted. */
  readonly reserveMs: number;
  /**
   * Milliseconds before that abort at which resumable transfers (videos too long for one
   * invocation) stop and keep what they stored (`PAUSE_LEAD_MS` when absent).
   */
  readonly pauseLeadMs?: number;
  /** Shared Albums' state and choices; absent: shared-album work is acknowledged and ignored. */
  readonly sharedAlbums?: SharedAlbumWorkerSettings;
  /** Called with each message's result (the local runtime's progress). */
  readonly onMessage?: (result: MessageResult) => void;
  /**
   * Live progress (the local runtime's progress line and Ctrl-C line): told each item as soon as
   * it is done (its manifest entry written), then, when its delivery ends, the correction that
   * makes what the delivery told equal what `onMessage` got for it (items a retried delivery
   * leaves to its redelivery are taken back). Summed, it is at every moment each item done once,
   * and at the end exactly the sum of the messages' results.
   */
  readonly onItemProgress?: (change: ItemProgress) => void;
  /**
   * Told each delivery's run-record counts as they are written (written or not, the work is
   * done): the local runtime's summary reads the Shared Albums' here, which no result carries.
   */
  readonly onRunCounts?: (counts: Readonly<Record<string, number>>) => void;
  /** Items in flight across the batch's messages (`DEFAULT_BATCH_ITEMS` when absent). */
  readonly batchItems?: number;
  /**
   * Slots shared by every batch of the process, in place of each batch's own `batchItems`: the
   * local runtime's `--concurrency`, "parallel downloads", bounds its pollers' batches together.
   * Closed for all when one batch meets a sign-in, as that run then stops taking work.
   */
  readonly itemSlots?: ItemSlots;
  /**
   * Told when a delivery ends because a person must sign in (once per batch): the local runtime
   * stops taking messages and parks its queue, as it does when detection meets the sign-in.
   */
  readonly onSignInNeeded?: (error: unknown) => void;
}

/** A change of the items done and the bytes they archived (negative: a correction taking some back). */
export interface ItemProgress {
  readonly items: number;
  readonly bytesArchived: number;
}

/**
 * What one delivery told as its items were done, settled once against what it reports for the
 * message: its result, its partial result when it throws (a retry or a sign-in iCloud demands), or
 * nothing when it throws before any item was done.
 */
function deliveryProgress(tell: ((change: ItemProgress) => void) | undefined) {
  const told = { items: 0, bytesArchived: 0 };
  let settled = false;
  return {
    itemDone(done: MessageResult): void {
      if (settled || tell === undefined) return;
      told.items += done.items;
      told.bytesArchived += done.bytesArchived;
      tell({ items: done.items, bytesArchived: done.bytesArchived });
    },
    settle(result: MessageResult | undefined): void {
      if (settled || tell === undefined) return;
      settled = true;
      const items = (result?.items ?? 0) - told.items;
      const bytesArchived = (result?.bytesArchived ?? 0) - told.bytesArchived;
      if (items !== 0 || bytesArchived !== 0) tell({ items, bytesArchived });
    },
  };
}

/**
 * Items in flight per batch, whatever its messages: each holds at most a few upload parts, so a
 * batch's memory stays bounded while its round trips overlap.
 */
export const DEFAULT_BATCH_ITEMS = 8;

/**
 * How long before the uploads' abort a resumable transfer is told to stop: time to finish the
 * parts in flight (4 x 8 MiB take about 2 s at ~20 MB/s, the largest parts' shapes a few more)
 * and to save its checkpoint, with room to spare.
 */
export const PAUSE_LEAD_MS = 30_000;

/** Listeners the batch's deadline may hold: a few per item of a full batch (10 messages of up to 25 items). */
const MAX_DEADLINE_LISTENERS = 1_000;

/** Stops the rest of a batch once a record needed a human. */
class ReauthNeededError extends Error {
  override readonly name = 'ReauthNeededError';
}

export interface DownloadBatch {
  /**
   * Processes one message body. Resolves when its work is done; rejects when the message should
   * be delivered again (or, unreadable, end in the dead-letter queue).
   */
  process(body: string, messageId: string, delivery?: number): Promise<void>;
  /** Ends the batch: stops the deadline, counts the requests to Apple, saves the session. */
  finish(): Promise<void>;
}

/** Starts a batch that must end `remainingMs` from now (uploads abort `reserveMs` before that). */
export function startDownloadBatch(
  deps: DownloadBatchDeps,
  invocation: { readonly remainingMs: number },
): DownloadBatch {
  const deadline = new AbortController();
  // Every item of the batch (up to ten messages of 25) listens for the deadline in its download,
  // upload and lease: more than Node's default of 10 listeners is expected, not a leak.
  setMaxListeners(MAX_DEADLINE_LISTENERS, deadline.signal);
  const timer = setTimeout(
    () => deadline.abort(new Error('the invocation is about to time out')),
    Math.max(0, invocation.remainingMs - deps.reserveMs),
  );
  // Resumable transfers stop first and keep their parts (domain/archive/resumable-transfer.ts).
  const pause = new AbortController();
  setMaxListeners(MAX_DEADLINE_LISTENERS, pause.signal);
  const pauseTimer = setTimeout(
    () => pause.abort(new Error('the invocation nears its end')),
    Math.max(0, invocation.remainingMs - deps.reserveMs - (deps.pauseLeadMs ?? PAUSE_LEAD_MS)),
  );
  let icloud: IcloudDownloadConnection | undefined;
  // One connection for the batch, however many of its messages ask for it at once.
  let connecting: Promise<IcloudDownloadConnection> | undefined;
  const connect = () => {
    connecting ??= deps.icloud().then(
      async (connection) => {
        icloud = connection;
        // Work queued for this archive, read with another Apple ID's session, would find its
        // photos gone: refused before any request (only compared here: detection records).
        const { state } = deps.archive;
        await checkArchiveOwner(
          { loadArchiveOwner: () => state.loadArchiveOwner() },
          { account: connection.session.account, now: Date.now() },
        );
        return connection;
      },
      (error: unknown) => {
        connecting = undefined; // the next message tries again
        throw error;
      },
    );
    return connecting;
  };
  // A hand-on that failed is said once per message: the message is then retried as before.
  const continuation = deps.archive.continuation && {
    enqueue: (messages: Parameters<WorkQueue['enqueue']>[0]) =>
      deps.archive.continuation!.enqueue(messages).catch((error: unknown) => {
        deps.logger.warn('paused video not sent on: its message is retried', { error });
        throw error;
      }),
  };
  let reauth = false;
  const itemSlots = deps.itemSlots ?? new ItemSlots(deps.batchItems ?? DEFAULT_BATCH_ITEMS);
  const process = async (body: string, messageId: string, delivery?: number): Promise<void> => {
    if (reauth) throw new ReauthNeededError('skipped: iCloud needs a new sign-in');
    let message: WorkMessage;
    try {
      message = deps.decode(body);
    } catch (error) {
      // Not ours, or from another version of the detector, whose token has already moved past
      // this work: acknowledging it would lose the work without a trace. Failing it lets SQS
      // move it to the dead-letter queue (alarmed) once the receives run out; the metric says why.
      deps.metrics.add(METRICS.workMessagesRejected, 1);
      deps.logger.error('work message rejected', { messageId, error });
      throw error;
    }
    const progress = deliveryProgress(deps.onItemProgress);
    // The delivery's counts (its library items' and its Shared Albums'), added up and written to
    // the run record in one update when it ends (a message of Shared Albums wrote once per album
    // and once more for its library counts); before the batch ends, as each message's always
    // was, so a crash loses no finished message's counts. A missing record (an old message) is
    // not an error.
    const counts: Record<string, number> = {};
    const count = (more: Readonly<Record<string, number>>) => {
      for (const name in more) counts[name] = (counts[name] ?? 0) + more[name]!;
    };
    const writeCounts = async () => {
      if (message.runStartedAt === undefined) return;
      deps.onRunCounts?.(counts);
      await deps.archive.state
        .addRunProgress({ runId: message.runId, startedAt: message.runStartedAt }, { counts })
        .catch((error: unknown) =>
          deps.logger.warn('run record not updated', { runId: message.runId, error }),
        );
    };
    // What a delivery did is reported once, also when it must be retried: the redelivery finds
    // those items done and does not count them again.
    const report = async (result: MessageResult) => {
      if (message.runStartedAt !== undefined) {
        // The detection run that enqueued this work shows what came of it (`icloud-s3 status`).
        const run = { runId: message.runId, startedAt: message.runStartedAt };
        count({
          assetsArchived: result.archived,
          assetsUpdated: result.updated,
          assetsPurged: result.purged,
          ...(result.purgedKept > 0 ? { assetsPurgedKept: result.purgedKept } : {}),
          assetsFailed: result.failed,
          filesArchived: result.versionsArchived,
          bytesArchived: result.bytesArchived,
          ...(result.awaitingUrl?.length ? { assetsAwaitingUrl: result.awaitingUrl.length } : {}),
        });
        for (const failure of result.failures)
          await deps.archive.state
            .recordRunFailure(run, failure)
            .catch((error: unknown) =>
              deps.logger.warn('run record not updated', { runId: run.runId, error }),
            );
      }
      await writeCounts();
      deps.metrics.add(METRICS.assetsArchived, result.archived);
      deps.metrics.add(METRICS.bytesArchived, result.bytesArchived, 'Bytes');
      deps.metrics.add(METRICS.assetsFailed, result.failed);
      for (const failure of result.failures) deps.logger.warn('asset failed permanently', failure);
      // Once per asset: detection queues it again only when the URL is there (never log the URL).
      for (const waiting of result.awaitingUrl ?? [])
        deps.logger.warn('iCloud lists versions without a download URL: archived once it offers one', {
          assetRecordName: waiting.subject,
          versions: waiting.versions,
        });
      deps.onMessage?.(result);
      progress.settle(result);
    };
    let partial: MessageResult | undefined;
    try {
      // Work issued so long ago that the catalog's fold may have dropped its journal items is
      // journalled again first (one object, late work only; on time, nothing).
      const renewed = await journalLateWork(deps.archive.objects, message, deps.archive.now());
      if (renewed > 0)
        deps.logger.info('late work journalled again for the catalog', { messageId, items: renewed });
      const adapters = await connect();
      const libraryResult = await processWorkMessage(
        {
          ...deps.archive,
          ...(continuation && { continuation }),
          downloader: adapters.downloader,
          refresh: refreshFromLookup(adapters.source),
          signal: deadline.signal,
          pause: pause.signal,
          itemSlots,
        },
        message,
        {
          onRetry: (done) => {
            partial = done;
          },
          onItemDone: (done) => progress.itemDone(done),
        },
      );
      // Shared-album items after the library's: their counts join the message's result. Loaded
      // for such a message alone (in the workers, a bundle of its own: infra/lambda-bundle.ts).
      const result = message.items.some((item) => item.type === 'sharedAlbum')
        ? await (await import('./shared-albums-work.ts')).archiveSharedWork(
            { ...deps, itemSlots, count },
            adapters,
            message,
            libraryResult,
            deadline.signal,
            delivery,
          )
        : libraryResult;
      if (result.continued)
        deps.logger.info('paused video goes on in a new message', { messageId, items: result.continued });
      await report(result);
    } catch (error) {
      if (partial !== undefined) await report(partial);
      else {
        // What its Shared Albums stored before it threw (the redelivery finds those items done).
        await writeCounts();
        progress.settle(undefined);
      }
      if (error instanceof SignInLatchedError) {
        // Latched (and reported) by an earlier run: nothing was asked of Apple.
        if (!reauth)
          deps.logger.warn('iCloud sign-in still needed; not asking Apple', { since: error.since });
        if (!reauth) deps.onSignInNeeded?.(error);
        reauth = true;
      } else if (classifyError(error) === 'reauth') {
        // Messages run at once: the first to learn it reports it, once per batch.
        if (reauth) throw error;
        reauth = true;
        deps.metrics.add(METRICS.reauthRequired, 1);
        deps.logger.error('iCloud needs you to sign in again', { error });
        deps.onSignInNeeded?.(error);
      } else if (error instanceof LibraryTwinPendingError) {
        // A Shared Album waiting for library originals a worker is archiving: expected, not a fault.
        deps.logger.info('work message will be retried: waits for library originals', { messageId });
      } else if (error instanceof GoneNotRecordedError) {
        // A Shared Album's gone item that came before the detector's list save: expected, not a fault.
        deps.logger.info('work message will be retried: gone album not recorded yet', { messageId });
      } else {
        deps.logger.warn('work message will be retried', { messageId, error });
      }
      throw error;
    }
  };
  return {
    process,
    async finish() {
      clearTimeout(timer);
      clearTimeout(pauseTimer);
      // Bookkeeping the state store batched (settled count nonces): a crash before it costs bytes, never counts.
      await deps.archive.state
        .flush()
        .catch((error: unknown) => deps.logger.warn('state not flushed', { error }));
      if (icloud !== undefined) {
        deps.metrics.add(METRICS.appleRequests, icloud.requests.total());
        await icloud.session
          .save()
          .catch((error: unknown) => deps.logger.warn('session not saved', { error }));
      }
    },
  };
}
