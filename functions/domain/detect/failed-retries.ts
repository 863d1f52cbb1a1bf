/**
 * Photos the workers recorded `failed` are tried again by the scheduled runs. Several causes the
 * classifier calls permanent are permanent for one try only: a CDN 404 (kei tries it again next
 * run), a record shape refused until Apple reverts it, an AccessDenied the owner fixes, a zone that
 * answered ZONE_NOT_FOUND for a while. The worker notes each failure beside the zone states
 * (`noteFailedForRetry`), so the read every run makes anyway brings the list along and an idle run
 * costs nothing more. When a photo is due, on the backoff of the records without a download URL
 * (the next three runs, then 1, 2, 4, 8, 16 hours apart, then daily; never given up), detection
 * reads its entry: one no longer `failed` (archived by its record's change meanwhile, purged,
 * trashed) leaves the list; a failed one is looked up and queued as ordinary asset work (one
 * served NOT_FOUND leaves too: its tombstone or the reconciliation says how). A photo
 * still failing after about a day and a quarter of tries is reported once (`stillFailing`: the
 * `workGivenUp` metric and its alarm); `status` lists every failed photo with its next try. Pure.
 * The tries themselves are `retry-failed-photos.ts`, loaded only when one is due.
 */
import type { FailedPhotoRetry } from '#domain/model/sync-state.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import { nextLookupAt } from './unreadable-records.ts';

/**
 * The tries a photo whose dead-lettered work the redrive pass gave up enters the list with: its
 * redrives were a day of tries, and the give-up told it (`workGivenUp`), so it is tried daily from
 * there and never reported again (past `REPORT_AFTER_TRIES`, retry-failed-photos.ts, 7).
 */
export const GIVEN_UP_TRIES = 8;

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
