/**
 * Records where each archived object is (`objectKey#<objectId>`, docs/state.md "One download per
 * object") for the objects the manifest lists without one: those a release from before these
 * items archived (docs/reliability.md finding 29). Run by `verify --repair`; idempotent (a second
 * run reads the items and writes none).
 *
 * Each write is conditional (`recordMissingObjectKey`): an item a worker wrote since the read
 * stays, and a key another object claims, or nobody claims, is not recorded.
 */
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { objectIdOf } from '#domain/plan/plan-versions.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';

/** Objects whose items are read in one go (ten BatchGetItems of a hundred). */
const READ_PAGE = 1_000;
/** Writes at once: a few, so a large archive's first repair takes minutes, not hours. */
const CONCURRENT_WRITES = 8;

/**
 * Each object's key as the manifest lists it. An object two assets list under two keys (stored
 * twice before these items) is recorded at the one stored first, as a worker's claim would have.
 */
export function archivedObjectKeys(manifest: readonly ManifestEntry[]): Map<string, string> {
  const first = new Map<string, { key: string; archivedAt: number }>();
  for (const entry of manifest)
    for (const v of entry.versions) {
      const objectId = objectIdOf(entry.masterRecordName, v.kind, v.fileChecksum);
      const known = first.get(objectId);
      if (
        known === undefined ||
        v.archivedAt < known.archivedAt ||
        (v.archivedAt === known.archivedAt && v.key < known.key)
      )
        first.set(objectId, { key: v.key, archivedAt: v.archivedAt });
    }
  return new Map([...first].map(([objectId, { key }]) => [objectId, key]));
}

/** Records the missing keys of the manifest's objects; resolves how many were written. */
export async function recordObjectKeys(
  state: SyncStateStore,
  manifest: readonly ManifestEntry[],
): Promise<number> {
  const wanted = [...archivedObjectKeys(manifest)];
  let recorded = 0;
  for (let i = 0; i < wanted.length; i += READ_PAGE) {
    const page = wanted.slice(i, i + READ_PAGE);
    const { objectKeys } = await state.getEntriesAndObjectKeys(
      [],
      page.map(([objectId]) => objectId),
    );
    const missing = page.filter(([objectId]) => !objectKeys.has(objectId));
    for (let j = 0; j < missing.length; j += CONCURRENT_WRITES) {
      const written = await Promise.all(
        missing
          .slice(j, j + CONCURRENT_WRITES)
          .map(([objectId, key]) => state.recordMissingObjectKey(objectId, key)),
      );
      recorded += written.filter(Boolean).length;
    }
  }
  return recorded;
}
