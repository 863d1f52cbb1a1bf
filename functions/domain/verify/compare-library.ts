/**
 * The archive against iCloud: every version the policy selects for an asset iCloud lists must be
 * archived (under any entry of the same master: one master, one set of objects), and nothing may
 * be archived for an asset iCloud no longer lists unless the manifest records its trash or purge.
 */
import type { ManifestEntry } from '#domain/model/manifest.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { zoneId } from '#domain/model/zone.ts';
import { objectIdOf } from '../plan/plan-versions.ts';
import type { LibraryAsset } from './library-asset.ts';
import type { ExtraFinding, MissingFinding } from './verify-report.ts';

export const refKey = (zone: ZoneRef, assetRecordName: string): string =>
  `${zoneId(zone)}|${assetRecordName}`;

export interface LibraryComparison {
  readonly missing: MissingFinding[];
  readonly extra: ExtraFinding[];
  readonly expectedVersions: number;
}

/** Why a version iCloud lists without a download URL is missing: nothing can fetch it until Apple offers one. */
export const NO_URL_REASON = 'iCloud lists it without a download URL (archived once Apple offers one)';

function whyNotArchived(entry: ManifestEntry | undefined): string {
  if (entry === undefined) return 'no manifest entry';
  if (entry.status === 'failed') return `failed: ${entry.failure?.reason ?? 'no reason recorded'}`;
  if (entry.status === 'pending') return 'pending';
  return 'version not archived';
}

/** Entries whose objects may stay although iCloud no longer lists the asset. */
function recordsItsRemoval(entry: ManifestEntry): boolean {
  return entry.status === 'purged' || entry.status === 'trashed' || entry.flags.isDeleted;
}

/**
 * @param retiredZones `zoneId`s of zones iCloud no longer lists (a Shared Library the person
 *   left): their entries are the archive's record of that library, not extra.
 */
export function compareLibrary(
  library: readonly LibraryAsset[],
  manifest: readonly ManifestEntry[],
  retiredZones: ReadonlySet<string> = new Set(),
): LibraryComparison {
  const entries = new Map(manifest.map((entry) => [refKey(entry.zone, entry.assetRecordName), entry]));
  const archivedIds = new Set(
    manifest.flatMap((entry) =>
      entry.versions.map((v) => objectIdOf(entry.masterRecordName, v.kind, v.fileChecksum)),
    ),
  );
  const missing: MissingFinding[] = [];
  let expectedVersions = 0;
  for (const asset of library) {
    // Recently Deleted photos too: iCloud still serves them, and after the purge only the archive
    // has them (one trashed before the first sync reached it included; `--repair` archives it).
    const entry = entries.get(refKey(asset.zone, asset.assetRecordName));
    for (const expected of asset.expected) {
      expectedVersions++;
      if (archivedIds.has(expected.objectId)) continue;
      missing.push({
        type: 'notArchived',
        zone: zoneId(asset.zone),
        assetRecordName: asset.assetRecordName,
        fileName: asset.fileName,
        version: expected.kind,
        reason: whyNotArchived(entry),
      });
    }
    // As the archive: a trashed photo's version without a URL is not waited for (archive-asset.ts).
    const withoutUrl = asset.scope === 'recentlyDeleted' ? [] : (asset.withoutUrl ?? []);
    for (const version of withoutUrl) {
      expectedVersions++;
      if (version.objectId !== undefined && archivedIds.has(version.objectId)) continue;
      missing.push({
        type: 'notArchived',
        zone: zoneId(asset.zone),
        assetRecordName: asset.assetRecordName,
        fileName: asset.fileName,
        version: version.kind,
        reason: NO_URL_REASON,
      });
    }
  }

  const listed = new Set(library.map((asset) => refKey(asset.zone, asset.assetRecordName)));
  const extra: ExtraFinding[] = [];
  for (const entry of manifest) {
    if (entry.versions.length === 0 || recordsItsRemoval(entry)) continue;
    if (retiredZones.has(zoneId(entry.zone))) continue;
    if (listed.has(refKey(entry.zone, entry.assetRecordName))) continue;
    extra.push({
      type: 'notInIcloud',
      zone: zoneId(entry.zone),
      assetRecordName: entry.assetRecordName,
      status: entry.status,
      keys: entry.versions.map((v) => v.key),
    });
  }
  return { missing, extra, expectedVersions };
}
