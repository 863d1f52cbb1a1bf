/**
 * The reconciling half of a full enumeration: what the manifest holds for a zone and the
 * enumeration did not return is gone from iCloud, and a zone delta would have said so with a
 * tombstone. When the delta is lost (a stale sync token) or was never read (a first sync over an
 * existing archive), only this comparison finds those purges.
 *
 * Bounded by design, for any library size:
 * - During the walk, each enumeration page stamps the assets it returned with the enumeration's
 *   generation id (`DetectionStateStore.markSeen`, one page at a time, before the checkpoint moves
 *   past the page; the generation lives in the checkpoint). No set of names is held anywhere.
 * - After the walk, the store streams the zone's unpurged entries without that stamp, a page at a
 *   time (`unseenAssets`); the page cursor goes into the checkpoint, so the pass survives the
 *   deadline and crashes (a repeated page only repeats idempotent work).
 * - An unseen entry is never purged on the walk's word alone: a rank-based walk can skip a photo
 *   that moved while it ran (hidden, unhidden, a neighbour deleted). Each candidate is looked up
 *   by name (`lookupAssets`, a few dozen per request): only a gone answer (`notFound`: NOT_FOUND
 *   or a tombstone) becomes a CPLAsset tombstone, which goes through the normal work path (the
 *   mirror safety stop, the workers' purge); a photo still there (skipped by the walk, or moved
 *   between indexes while it ran) becomes its current asset change; an answer the mapping cannot read (`missing`)
 *   waits with the zone's unreadable records; another `unavailable` answer changes nothing.
 * Candidates gather over unseen pages (at most a batch and a page of them in memory) so Apple
 * sees one lookup per 50 candidates, none when nothing is gone.
 * Cost: one stamp write per asset (25 per batch) during the walk, then per 100 manifest entries
 * one query and one batch read.
 */
import type { ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { AssetSource } from '#ports/asset-source.ts';
import type { UnseenAsset } from '#ports/sync-state-store.ts';

/** Candidates per `lookupAssets` call (an asset and its master each: 100 records a request). */
export const RECONCILE_LOOKUP_BATCH = 50;

/** The asset record names an enumeration page returned: what `markSeen` stamps. */
export function seenAssetNames(changes: readonly ZoneChange[]): string[] {
  const names: string[] = [];
  for (const change of changes) {
    if (change.type === 'asset') names.push(change.asset.assetRecordName);
    else if (change.type === 'assetOnly') names.push(change.change.assetRecordName);
  }
  return names;
}

/**
 * Asks iCloud about entries the enumeration did not return, a batch at a time: the purged become
 * CPLAsset tombstones, the ones still there their current asset change (to enqueue, in order),
 * the ones answered in a shape that cannot be read `unreadable` (to park, never to purge: an
 * archived photo's objects are not deleted because a new record shape appeared).
 */
export async function confirmUnseen(
  source: AssetSource,
  zone: ZoneRef,
  unseen: readonly UnseenAsset[],
): Promise<{ changes: ZoneChange[]; unreadable: string[] }> {
  const changes: ZoneChange[] = [];
  const unreadable: string[] = [];
  for (let i = 0; i < unseen.length; i += RECONCILE_LOOKUP_BATCH) {
    const found = await source.lookupAssets(zone, unseen.slice(i, i + RECONCILE_LOOKUP_BATCH));
    for (const asset of found.assets) changes.push({ type: 'asset', asset });
    const gone = new Set(found.notFound ?? []);
    for (const recordName of gone) {
      changes.push({ type: 'tombstone', zone, recordName, inferredType: 'CPLAsset' });
    }
    unreadable.push(...found.missing.filter((name) => !gone.has(name)));
  }
  return { changes, unreadable };
}
