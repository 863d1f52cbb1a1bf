/**
 * Which planned versions the archive does not hold yet: the one rule the archive and the dry run
 * share. A version is held when an archived object has its kind and Apple's `fileChecksum`.
 */
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { type PlannedVersion, sameVersion } from '#domain/plan/plan-versions.ts';

/** The planned versions `entry` (absent: nothing archived) does not hold, in planned order. */
export function missingVersions(
  planned: readonly PlannedVersion[],
  entry: Pick<ManifestEntry, 'versions'> | undefined,
): PlannedVersion[] {
  const kept = entry?.versions ?? [];
  return planned.filter((p) => !kept.some((v) => sameVersion(v, p.version)));
}
