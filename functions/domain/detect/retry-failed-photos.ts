/**
 * Tries due failed photos again (the list and its backoff: `failed-retries.ts`). A module of its
 * own, loaded only on a run with a photo due: the detector's bundle leaves it beside `index.mjs`
 * (infra/lambda-bundle.ts, `LAZY_MODULES`), so it imports types alone. Pure.
 */
import type { ZoneChange } from '#domain/model/asset.ts';
import type { FailedPhotoRetry } from '#domain/model/sync-state.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { AssetSource } from '../../ports/asset-source.ts';
import type { DetectionStateStore } from '../../ports/sync-state-store.ts';

/**
 * Tries after which a photo still failing is reported, once: the three quick tries and those 1,
 * 2, 4 and 8 h apart, the last about 16 h after the failure; the check 16 h after it finds it
 * failing still, about 31 h in.
 */
export const REPORT_AFTER_TRIES = 7;

export interface RetryDeps {
  readonly source: AssetSource;
  readonly state: DetectionStateStore;
  readonly now: () => number;
  /** Puts work on the queue; resolves once it is durable. */
  readonly enqueue: (changes: readonly ZoneChange[]) => Promise<void>;
}

/**
 * Tries the due failed photos of `zone` again; returns those still failing after
 * `REPORT_AFTER_TRIES` tries (reported once). A try is counted only after its work is on the
 * queue, so a crash in between tries again at the next run (the archive is idempotent). A photo a
 * retry left `pending` (a version still without a URL) stays on the list, tried on the same
 * backoff, until it is archived.
 *
 * What the list holds is the work not done for a photo, whoever noted it: the workers (the entry
 * `failed`), or the redrive pass that gave up its dead-lettered work (no entry, or an entry older
 * than that work). So a photo leaves the list once its entry was written since (archived, purged,
 * trashed meanwhile), or once the archive holds the record iCloud serves now (its change tag),
 * or when iCloud no longer has it; it is queued again while its entry is `failed` or `pending`,
 * missing (never archived), or older than both the failure and iCloud's record.
 */
export async function retryFailedPhotos(
  deps: RetryDeps,
  zone: ZoneRef,
  due: readonly FailedPhotoRetry[],
): Promise<string[]> {
  const stillFailing: string[] = [];
  if (due.length === 0) return stillFailing;
  // One zone's photos: their names tell them apart.
  const entries = new Map(
    [...(await deps.state.getEntries(due)).values()].map((e) => [e.assetRecordName, e]),
  );
  const failed: FailedPhotoRetry[] = [];
  // Entries not written since the failure that are not failed themselves: given-up work's.
  const archivedTags = new Map<string, string>();
  for (const retry of due) {
    const entry = entries.get(retry.assetRecordName);
    if (entry === undefined || entry.status === 'failed' || entry.status === 'pending') failed.push(retry);
    // Archived meanwhile (its record changed), purged, trashed: not ours any more.
    else if (entry.updatedAt > retry.failedAt || entry.status === 'purged') await deps.state.dropRetry(retry);
    else {
      failed.push(retry);
      archivedTags.set(retry.assetRecordName, entry.assetChangeTag);
    }
  }
  if (failed.length === 0) return stillFailing;
  const found = await deps.source.lookupAssets(
    zone,
    failed.map(({ assetRecordName }) => ({ assetRecordName })),
  );
  // The archive already holds what iCloud serves now: nothing of the given-up work is missing.
  const current = new Set(
    found.assets
      .filter(
        (a) =>
          archivedTags.has(a.assetRecordName) && archivedTags.get(a.assetRecordName) === a.assetChangeTag,
      )
      .map((a) => a.assetRecordName),
  );
  await deps.enqueue(
    found.assets
      .filter((a) => !current.has(a.assetRecordName))
      .map((asset): ZoneChange => ({ type: 'asset', asset })),
  );
  // NOT_FOUND: gone (its tombstone, or the reconciliation, says how). Unavailable: tried again later.
  const gone = new Set(found.notFound);
  for (const retry of failed) {
    if (gone.has(retry.assetRecordName) || current.has(retry.assetRecordName))
      await deps.state.dropRetry(retry);
    else {
      if (retry.tries === REPORT_AFTER_TRIES) stillFailing.push(retry.assetRecordName);
      await deps.state.recordRetryTried(retry, retry.tries + 1, deps.now());
    }
  }
  return stillFailing;
}
