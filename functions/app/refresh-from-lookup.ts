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
    return { assets: found.assets, unavailable: [...found.unavailable, ...unreadable] };
  };
}
