/**
 * Photos the workers recorded `failed` are tried again by the scheduled runs. Several causes the
 * classifier calls permanent are permanent for one try only: a CDN 404 (kei tries it again next
 * run), a record shape refused until Apple reverts it, an AccessDenied the owner fixes, a zone that
 * answered ZONE_NOT_FOUND for a while. The worker notes each failure beside the zone states
 * (`noteFailedForRetry`), so the read every run makes anyway brings the list along and an idle run
 * costs nothing more. When a photo is due, on the backoff of the records without a download URL
 * (the next three runs, then 1, 2, 4, 8, 16 hours apart, then daily; never given up), detection
 * reads its entry: one no longer `failed` (archived by its record's change meanwhile, purged,
 * trashed) leaves the list; a failed one is looked up and queued as ordinary asset work. A photo
 * still failing after about a day and a quarter of tries is reported once (`stillFailing`: the
 * `workGivenUp` metric and its alarm); `status` lists every failed photo with its next try. Pure.
 */
import type { Asset, ZoneChange } from '#domain/model/asset.ts';
import { assetId } from '#domain/model/manifest.ts';
import type { FailedPhotoRetry } from '#domain/model/sync-state.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import type { AssetSource } from '../../ports/asset-source.ts';
import type { DetectionStateStore } from '../../ports/sync-state-store.ts';
import { nextLookupAt, UNREADABLE_POLICY } from './unreadable-records.ts';

/** Tries after which a photo still failing is reported, once: the 7th ends about 16 h in, the check after it 16 h later. */
export const REPORT_AFTER_TRIES = UNREADABLE_POLICY.quickTries + 4;
/** Photos of one zone tried in one run (five lookups); the rest stay due for the next run. */
export const RETRIES_PER_RUN = 500;

/** When `retry` is next tried: undefined when at the next run. */
export function nextRetryAt(retry: FailedPhotoRetry): number | undefined {
  const { tries, lastTriedAt } = retry;
  return nextLookupAt({
    name: retry.assetRecordName,
    tries,
    noUrl: true,
    ...(lastTriedAt ? { lastTriedAt } : {}),
  });
}

/** The retries of `zone` due on a run at `now`, at most `RETRIES_PER_RUN`. */
export function dueRetries(
  retries: readonly FailedPhotoRetry[],
  zone: ZoneRef,
  now: number,
): FailedPhotoRetry[] {
  return retries
    .filter((r) => zoneId(r.zone) === zoneId(zone) && now >= (nextRetryAt(r) ?? now))
    .slice(0, RETRIES_PER_RUN);
}

export interface RetryDeps {
  readonly source: AssetSource;
  readonly state: DetectionStateStore;
  readonly now: () => number;
  /** Puts work on the queue; resolves once it is durable. */
  readonly enqueue: (changes: readonly ZoneChange[]) => Promise<void>;
  /** Which of `assets` wait for a download URL for a version (they join the zone's list of those too). */
  readonly awaitingUrl: (assets: readonly Asset[]) => string[];
}

export interface RetryOutcome {
  /** Queued again. */
  readonly queued: number;
  /** Served without a URL for a version the policy keeps: the caller parks them with the zone. */
  readonly noUrl: readonly string[];
  /** Still failing after `REPORT_AFTER_TRIES` tries: reported once. */
  readonly stillFailing: readonly string[];
}

/**
 * Tries the due failed photos of `zone` again. Only after their work is on the queue is the try
 * counted, so a crash in between tries again at the next run (the archive is idempotent).
 */
export async function retryFailedPhotos(
  deps: RetryDeps,
  zone: ZoneRef,
  due: readonly FailedPhotoRetry[],
): Promise<RetryOutcome> {
  const none: RetryOutcome = { queued: 0, noUrl: [], stillFailing: [] };
  if (due.length === 0) return none;
  const entries = await deps.state.getEntries(due);
  const failed: FailedPhotoRetry[] = [];
  for (const retry of due) {
    // Archived meanwhile (its record changed), purged, trashed, waiting for a URL: not ours any more.
    if (entries.get(assetId(retry))?.status === 'failed') failed.push(retry);
    else await deps.state.dropRetry(retry);
  }
  if (failed.length === 0) return none;
  const found = await deps.source.lookupAssets(
    zone,
    failed.map(({ assetRecordName }) => ({ assetRecordName })),
  );
  // As a delta would: what has a URL is queued, and a version without one waits with the zone.
  await deps.enqueue(found.assets.map((asset): ZoneChange => ({ type: 'asset', asset })));
  // NOT_FOUND: gone (its tombstone, or the reconciliation, says how). Unavailable: tried again later.
  const gone = new Set(found.notFound ?? []);
  const now = deps.now();
  const stillFailing: string[] = [];
  for (const retry of failed) {
    if (gone.has(retry.assetRecordName)) await deps.state.dropRetry(retry);
    else {
      if (retry.tries === REPORT_AFTER_TRIES) stillFailing.push(retry.assetRecordName);
      await deps.state.recordRetryTried(retry, retry.tries + 1, now);
    }
  }
  return { queued: found.assets.length, noUrl: deps.awaitingUrl(found.assets), stillFailing };
}
