/**
 * One detection run (the scheduled change detector's use case): opens the iCloud connection,
 * runs one detection, records the run (an idle run writes only the time of the check), keeps the
 * stored session fresh, and emits the metrics the alarms watch. Called by the Lambda entry and,
 * through it, by the local runtime; knows nothing of Lambda.
 */
import { type AlbumViewDeps, refreshAlbumViews } from '#app/album-views.ts';
import { recordArchiveSettings } from '#app/archive-settings.ts';
import { checkArchiveOwner, OTHER_ACCOUNT } from '#domain/account/archive-owner.ts';
import { OneRunAlbumStore } from '#domain/albums/one-run-album-store.ts';
import { type DetectResult, detectChanges } from '#domain/detect/detect-changes.ts';
import {
  AccountConditionError,
  classifyError,
  SessionExpiredError,
  SignInLatchedError,
} from '#domain/errors.ts';
import type { SettingsNotice } from '#domain/model/archive-settings.ts';
import type { RunRef } from '#domain/model/run.ts';
import type { SharedAlbumsCheck, SharedAlbumsFailing } from '#domain/model/sync-state.ts';
import {
  type DeletePolicy,
  type LimitsToAllow,
  MassDeletionRefusedError,
} from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY, type VersionPolicy } from '#domain/plan/version-policy.ts';
import { ROTATED_SESSION_SAVE_INTERVAL_MS } from '#domain/session-saves.ts';
import { FAILING_MESSAGE_CHARS, failingDueForReport } from '#domain/shared-albums/failing-streak.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { IcloudLibraryConnection } from '#ports/icloud-connection.ts';
import type { DetectionStateStore } from '#ports/sync-state-store.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import { METRICS } from '#shared/env-names.ts';
import type { Logger } from '#shared/logger.ts';
import type { PipelineMetrics } from '#shared/pipeline-metrics.ts';
import { errorMessage } from '#shared/redact.ts';
import {
  albumNamesFrom,
  albumsOfAssetsFrom,
  type CatalogDeps,
  foldCatalog,
  journalingQueue,
} from './catalog-upkeep.ts';
import {
  detectSharedAlbumsStep,
  type SharedAlbumsSettings,
  type SharedAlbumsStepResult,
} from './shared-albums-step.ts';

export interface DetectionRunDeps {
  readonly state: DetectionStateStore;
  readonly queue: WorkQueue;
  /** Opens the iCloud connection for one run (reads the stored session). */
  readonly icloud: () => Promise<IcloudLibraryConnection>;
  readonly deletePolicy: DeletePolicy;
  /** The workers' version policy (the same setting): work items leave out what it never archives. */
  readonly versionPolicy?: VersionPolicy;
  /** Milliseconds before the deadline at which detection stops taking new pages. */
  readonly reserveMs: number;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly now?: () => number;
  /** Shared Albums on their own cadence; absent or `enabled: false` skips them (no request). */
  readonly sharedAlbums?: SharedAlbumsSettings;
  /**
   * Keeps the catalog in the bucket: enqueued work is journalled first, and the run ends by
   * folding what the workers have finished (docs/archive-layout.md#9-the-catalog).
   */
  readonly catalog?: CatalogDeps;
  /**
   * Fold the catalog at the end of the run (default). The local runtime folds once after its
   * downloads instead, and only when there can be a journal, so its idle run needs no S3.
   */
  readonly foldCatalogAfterRun?: boolean;
  /**
   * Where detection records albums and memberships; without it albums are not recorded. The run
   * reads it through one `OneRunAlbumStore`: the walk, the album views and the catalog's album
   * lookups (when `catalog` brings none of its own) share one read of each album's members.
   */
  readonly albums?: AlbumStore;
  /**
   * Writes the views of `albums` after the check (the deployed pipeline: no other step runs after
   * the downloads). The local runtime leaves it out and writes them once its queue is drained.
   */
  readonly albumViews?: Omit<AlbumViewDeps, 'albums'>;
}

/** Which run this is and how long it may take. */
export interface DetectionInvocation {
  readonly runId: string;
  /** Milliseconds left before the runtime stops this run. */
  readonly remainingMs: () => number;
}

export type DetectionRunResult =
  | (DetectResult & {
      readonly appleRequests: Readonly<Record<string, number>>;
      /** What the Shared Albums step did (absent when the feature is off). */
      readonly sharedAlbums?: SharedAlbumsStepResult;
      /**
       * A setting that shapes the archive changed with this run (`#app/archive-settings.ts`):
       * what the photos archived before lack, and the command that catches them up, if any.
       */
      readonly settingsChanged?: readonly SettingsNotice[];
    })
  | {
      readonly outcome: 'reauthRequired';
      readonly runId: string;
      readonly message: string;
      readonly action: string;
      /**
       * Set when Apple refused the account, or the session is another account's than the
       * archive's (`otherAccount`): `AccountConditionError.condition`.
       */
      readonly condition?: string;
    }
  | {
      /**
       * The mirror safety stop: the run would have deleted more than the policy allows. The
       * refused page and those after it deleted nothing; `queued` objects of earlier pages were.
       * The zone keeps its token and the count (every later run meets the same stop) until a
       * person raises the limit or looks into the library.
       */
      readonly outcome: 'deletionRefused';
      readonly runId: string;
      readonly message: string;
      /** What the pages before the refusal enqueued (their tokens moved on; the workers archive it). */
      readonly itemsEnqueued: number;
      readonly messagesEnqueued: number;
      readonly wouldDelete: number;
      readonly archiveObjects: number;
      readonly limit: number;
      readonly queued: number;
      /** The least raised limits that let it through (`limitsToAllow`; empty: none known). */
      readonly allow: LimitsToAllow;
    };

const DAY_MS = 24 * 60 * 60 * 1000;

export async function runDetection(
  deps: DetectionRunDeps,
  invocation: DetectionInvocation,
): Promise<DetectionRunResult> {
  const now = deps.now ?? Date.now;
  const { runId } = invocation;
  const startedAt = now();
  // The run record opens when the run has work (never for an idle check) and the workers add
  // their counts to it as they archive what this run enqueued.
  let run: RunRef | undefined;
  const openRun = async () => {
    run ??= await deps.state.startRun(runId, 'detect', startedAt);
    return run;
  };
  const onWorkStarting = async () => {
    await openRun();
  };
  const albums = deps.albums === undefined ? undefined : new OneRunAlbumStore(deps.albums);
  const catalog: CatalogDeps | undefined =
    deps.catalog === undefined || albums === undefined
      ? deps.catalog
      : { albumNames: albumNamesFrom(albums), albumsOfAssets: albumsOfAssetsFrom(albums), ...deps.catalog };
  // The library's detection, once it has ended: a refusal by the Shared Albums step after it
  // reports what the library enqueued (a refusal by the library carries its own counts).
  let library: DetectResult | undefined;
  // The catalog trails the workers by one run; a failed fold leaves the journal for the next. A run
  // stopped before Apple (latch, re-login, deletion stop) folds too: the workers go on archiving.
  const foldAfterRun = async () => {
    if (catalog === undefined || deps.foldCatalogAfterRun === false) return;
    await foldCatalog(catalog, runId).catch((error: unknown) =>
      deps.logger.warn('catalog not folded', { error }),
    );
  };
  try {
    const icloud = await deps.icloud();
    // Another Apple ID's session over this archive: refused before any request or write (its
    // library is not this archive's: nothing of it is taken as purged or mixed in).
    const account = icloud.session.account;
    if ((await checkArchiveOwner(deps.state, { account, now: now() })) === 'recorded') {
      deps.logger.info('archive account recorded', { account: account?.label ?? 'unnamed' });
    }
    if (icloud.session.trustExpiresAt !== undefined) {
      deps.metrics.add(
        METRICS.trustExpiresInDays,
        Math.floor((icloud.session.trustExpiresAt - now()) / DAY_MS),
      );
    }
    const result = await detectChanges({
      source: icloud.source,
      state: deps.state,
      queue: catalog === undefined ? deps.queue : journalingQueue(deps.queue, catalog.objects, now),
      now,
      remainingMs: invocation.remainingMs,
      runId,
      runStartedAt: startedAt,
      onWorkStarting,
      deletePolicy: deps.deletePolicy,
      ...(deps.versionPolicy === undefined ? {} : { versionPolicy: deps.versionPolicy }),
      reserveMs: deps.reserveMs,
      ...(albums === undefined ? {} : { albums }),
    });
    library = result;
    // A run that found the lock held leaves Shared Albums to the run holding it.
    const shared =
      result.outcome === 'locked'
        ? undefined
        : await detectSharedAlbumsStep(deps, icloud, {
            runId,
            runStartedAt: startedAt,
            now,
            onWorkStarting,
          });
    if (deps.albumViews !== undefined && albums !== undefined && result.outcome !== 'locked') {
      // Views never fail the check: a view not written now stays stale and is written next time.
      // Work this run enqueued lands later: a stale album is re-rendered on each run until it
      // settles (`settleMs`), so a photo's change reaches its albums' views within the hour.
      await refreshAlbumViews({ ...deps.albumViews, albums }).catch((error: unknown) =>
        deps.logger.warn('album views not written', { error }),
      );
    }
    if (result.databaseTokensRefused !== undefined) {
      // Read again without a token (every zone listed, each from its own token): nothing lost.
      deps.logger.warn('CloudKit refused the stored database token; read every zone instead', {
        databases: result.databaseTokensRefused,
      });
    }
    // Records CloudKit would not serve through every lookup, and failed photos still failing after
    // a day of retries (told once each): the WorkGivenUp alarm calls a person.
    const givenUp = result.zones.flatMap((z) => [...(z.unreadableGivenUp ?? []), ...(z.stillFailing ?? [])]);
    if (givenUp.length > 0) {
      deps.metrics.add(METRICS.workGivenUp, givenUp.length);
      deps.logger.warn('records given up, or photos failing after a day of retries (see status)', {
        records: givenUp.length,
        names: givenUp.slice(0, 20),
      });
    }
    // An album walk that could not read every album or member: nothing it missed was taken as
    // deleted, and the albums are walked again later (album-walk-retry.ts); told once after a day.
    const albumProblems = result.zones.reduce((n, z) => n + (z.albumProblems ?? 0), 0);
    if (albumProblems > 0) {
      deps.logger.warn('album walk read only part of the albums; walked again later', { albumProblems });
    }
    const albumsFailing = result.zones.filter((z) => z.albumWalkFailingSince !== undefined).length;
    if (albumsFailing > 0) deps.metrics.add(METRICS.workGivenUp, albumsFailing);
    const appleRequests = icloud.requests.counts();
    deps.metrics.add(METRICS.appleRequests, icloud.requests.total());
    deps.metrics.add(
      METRICS.syncSucceeded,
      result.outcome === 'idle' || result.outcome === 'caughtUp' ? 1 : 0,
    );
    const idle = (result.outcome === 'idle' || result.outcome === 'locked') && shared?.outcome !== 'changed';
    // The settings this run used, with the archive's state (a write only when one changed).
    const settingsChanged =
      result.outcome === 'locked'
        ? []
        : await recordArchiveSettings(
            deps.state,
            {
              versionPolicy: deps.versionPolicy ?? DEFAULT_VERSION_POLICY,
              xmpSidecars: deps.catalog?.xmpSidecars === true,
              deleteMode: deps.deletePolicy.mode,
            },
            now(),
            deps.logger,
          );
    if (result.outcome !== 'locked') {
      // The one write of an idle check: `status` shows when the archive was last checked, and
      // since when the Shared Albums step has failed on every run (no write of its own).
      const failing = await deps.state
        .recordCheck(now(), sharedAlbumsCheck(shared))
        .catch((error: unknown) => deps.logger.warn('time of the check not recorded', { error }));
      if (failing && failingDueForReport(failing, now()))
        await reportFailingSharedAlbums(deps, failing, now());
    }
    // Every CloudKit answer rotates the session cookie. Idle checks leave the store alone (they
    // write nothing) until the stored cookie is ROTATED_SESSION_SAVE_INTERVAL_MS old, the interval
    // the session itself keeps for a rotated cookie alone (a refreshed session was stored at once).
    if (!idle || now() - icloud.session.storedAt > ROTATED_SESSION_SAVE_INTERVAL_MS) {
      // A worker may have stored a newer session meanwhile (compare-and-set refuses ours):
      // keeping theirs is right, and the run's work is done either way.
      await icloud.session.save().catch((error: unknown) => deps.logger.warn('session not saved', { error }));
    }
    if (!idle) {
      const record = await openRun();
      await deps.state.addRunProgress(record, {
        counts: { itemsEnqueued: result.itemsEnqueued, messagesEnqueued: result.messagesEnqueued },
        appleRequests,
      });
      const done = result.outcome === 'caughtUp' || result.outcome === 'idle';
      await deps.state.finishRun(record, done ? 'succeeded' : 'partial', now());
    }
    if (result.outcome !== 'locked') await foldAfterRun();
    // Zones walked afresh or retired, and why: `zoneGone` (a Shared Library left, its archive
    // kept, followed again if Apple lists it), `zoneReturned`, `staleToken`.
    const noted = result.zones.flatMap((z) =>
      z.note === undefined ? [] : [`${z.zone.zoneName}: ${z.note}`],
    );
    deps.logger.info('detection finished', {
      outcome: result.outcome,
      zones: result.zones.length,
      ...(noted.length > 0 ? { zoneNotes: noted } : {}),
      itemsEnqueued: result.itemsEnqueued,
      appleRequests,
      ...(shared ? { sharedAlbums: shared.outcome } : {}),
    });
    return {
      ...result,
      appleRequests,
      ...(shared ? { sharedAlbums: shared } : {}),
      ...(settingsChanged.length > 0 ? { settingsChanged } : {}),
    };
  } catch (error) {
    if (error instanceof SignInLatchedError) {
      // Latched by an earlier run, which raised the alarm: no request to Apple, no run record.
      deps.metrics.add(METRICS.signInPending, 1);
      deps.logger.warn('iCloud sign-in still needed; not asking Apple', { since: error.since });
      await foldAfterRun();
      return { outcome: 'reauthRequired', runId, message: error.message, action: error.action };
    }
    if (error instanceof SessionExpiredError || error instanceof AccountConditionError) {
      // A human must act: say so once, loudly, and do not retry (the next tick would fail the same way).
      deps.metrics.add(METRICS.reauthRequired, 1);
      deps.logger.error(
        error instanceof AccountConditionError && error.condition === OTHER_ACCOUNT
          ? 'the session is signed in to another Apple ID than the archive'
          : 'iCloud needs you to sign in again',
        { error },
      );
      const action = error instanceof SessionExpiredError ? error.action : 'icloud-s3 login';
      const message = errorMessage(error);
      await recordFailedRun(deps, openRun, now(), 'reauthRequired', message).catch(() => undefined);
      await foldAfterRun();
      const condition = error instanceof AccountConditionError ? { condition: error.condition } : {};
      return { outcome: 'reauthRequired', runId, message, action, ...condition };
    }
    if (error instanceof MassDeletionRefusedError) {
      // Not retried: the next tick meets the same stop. The alarm on the metric calls a person.
      deps.metrics.add(METRICS.deletionRefused, 1);
      deps.metrics.add(METRICS.syncSucceeded, 0);
      const numbers = {
        wouldDelete: error.wouldDelete,
        archiveObjects: error.archiveObjects,
        limit: error.limit,
        queued: error.queued,
        allow: error.allow,
      };
      deps.logger.error('mass deletion refused', numbers);
      const message = errorMessage(error);
      await recordFailedRun(deps, openRun, now(), 'failed', message).catch(() => undefined);
      await foldAfterRun();
      return {
        outcome: 'deletionRefused',
        runId,
        message,
        itemsEnqueued: library?.itemsEnqueued ?? error.enqueuedBefore.items,
        messagesEnqueued: library?.messagesEnqueued ?? error.enqueuedBefore.messages,
        ...numbers,
      };
    }
    deps.logger.error('detection failed', { error, class: classifyError(error) });
    await recordFailedRun(deps, openRun, now(), 'failed', errorMessage(error)).catch(() => undefined);
    throw error;
  }
}

/** What the check notes of the Shared Albums step: a run with it off or absent is not failing. */
function sharedAlbumsCheck(shared: SharedAlbumsStepResult | undefined): SharedAlbumsCheck {
  if (shared?.outcome !== 'failed') return 'notFailing';
  return {
    failed: { errorClass: shared.errorClass, message: shared.message.slice(0, FAILING_MESSAGE_CHARS) },
  };
}

/**
 * A Shared Albums step failing on every run for a day: the WorkGivenUp alarm calls a person, once
 * per streak (the mark is conditional, so two runs at once count it once).
 */
async function reportFailingSharedAlbums(deps: DetectionRunDeps, failing: SharedAlbumsFailing, at: number) {
  const marked = await deps.state
    .markSharedAlbumsFailingReported(failing.since, at)
    .catch((error: unknown) => {
      deps.logger.warn('failing shared albums not marked reported', { error });
      return false;
    });
  if (!marked) return;
  deps.metrics.add(METRICS.workGivenUp, 1);
  deps.logger.error('shared albums failing on every run for a day (see status)', {
    since: new Date(failing.since).toISOString(),
    class: failing.errorClass,
    message: failing.message,
  });
}

async function recordFailedRun(
  deps: DetectionRunDeps,
  openRun: () => Promise<RunRef>,
  endedAt: number,
  outcome: 'failed' | 'reauthRequired',
  message: string,
) {
  await deps.state.finishRun(await openRun(), outcome, endedAt, message);
}
