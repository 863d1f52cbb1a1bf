/**
 * The manifest entry a purge tombstone removes. The workers purge it (archive/apply-change.ts) and
 * the mirror safety stop counts its objects first (detect/detect-changes.ts): one function, so the
 * stop counts exactly what the purge reaches.
 */
import type { TombstoneType } from '#domain/model/asset.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import type { DetectionStateStore } from '../../ports/sync-state-store.ts';

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
