/**
 * The archive's URL refresh over a records lookup. A record CloudKit answered in a shape the
 * mapping cannot read (`missing`) is not gone (gone is NOT_FOUND or a tombstone): it is handed
 * on as unavailable, so the item is retried (the message comes back) and reported if it never
 * reads, instead of being skipped as deleted in iCloud meanwhile.
 */
import type { RefreshAssets } from '#domain/archive/archive-deps.ts';
import type { AssetLookup } from '#ports/asset-source.ts';

export function refreshFromLookup(lookup: AssetLookup): RefreshAssets {
  return async (zone, keys) => {
    const found = await lookup.lookupAssets(zone, keys);
    const gone = new Set(found.notFound ?? []);
    const unreadable = found.missing
      .filter((name) => !gone.has(name))
      .map((assetRecordName) => ({ assetRecordName, reason: 'answered in a shape icloud-s3 cannot read' }));
    // Gone (NOT_FOUND, a tombstone) is not "could not return this time": retrying it would only
    // end in the dead-letter queue (a photo first met in Recently Deleted, purged while its work
    // waited); the item finds it deleted in iCloud meanwhile.
    const stillThere = found.unavailable.filter((u) => !gone.has(u.assetRecordName));
    return { assets: found.assets, unavailable: [...stillThere, ...unreadable] };
  };
}
