/**
 * The manifest entry a purge tombstone removes. The workers purge it (archive/apply-change.ts) and
 * the mirror safety stop counts its objects first (detect/detect-changes.ts): one function, so the
 * stop counts exactly what the purge reaches.
 */
import type { TombstoneType } from '#domain/model/asset.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import type { DetectionStateStore } from '../../ports/sync-state-store.ts';
import { isSharedAlbumUser } from '../shared-albums/library-copy.ts';

/** An asset by its name; a master (or a name of unknown type that is no asset's) through its user in that zone. */
export async function entryForTombstone(
  state: Pick<DetectionStateStore, 'getEntry' | 'masterUsers'>,
  zone: ZoneRef,
  recordName: string,
  inferredType: TombstoneType,
): Promise<ManifestEntry | undefined> {
  if (inferredType === 'CPLAsset' || inferredType === 'unknown') {
    const entry = await state.getEntry({ zone, assetRecordName: recordName });
    if (entry !== undefined) return entry;
  }
  if (inferredType === 'CPLMaster' || inferredType === 'unknown') {
    const user = (await state.masterUsers(recordName)).find((u) => zoneId(u.zone) === zoneId(zone));
    if (user !== undefined) return state.getEntry(user);
  }
  return undefined;
}

/**
 * Keys of `entry`'s objects that another live entry (a duplicate, the Shared Library copy of the
 * same master, a library reset's new asset) still lists: a purge keeps them. The workers' purge
 * deletes the rest (archive/apply-change.ts) and the mirror safety stop counts only the rest
 * (detect/detect-changes.ts): one rule.
 */
export async function keysStillUsed(
  state: Pick<DetectionStateStore, 'getEntry' | 'masterUsers'>,
  entry: ManifestEntry,
): Promise<Set<string>> {
  const users = await state.masterUsers(entry.masterRecordName);
  const others = users.filter(
    (u) => !(u.assetRecordName === entry.assetRecordName && zoneId(u.zone) === zoneId(entry.zone)),
  );
  const used = new Set<string>();
  for (const other of others) {
    // A Shared Album item showing this photo's original (same checksum, stored once) keeps it.
    if (isSharedAlbumUser(other)) {
      for (const version of entry.versions) if (version.kind === 'original') used.add(version.key);
      continue;
    }
    // A user without an entry is a worker under way (it records itself before it stores or adopts
    // anything): it will list the master's objects, so it keeps them all. One whose entry never
    // comes (its worker died) leaves them in the bucket, unlisted: `verify` reports them.
    const otherEntry = await state.getEntry(other);
    if (otherEntry?.status === 'purged') continue;
    for (const version of (otherEntry ?? entry).versions) used.add(version.key);
  }
  return used;
}
