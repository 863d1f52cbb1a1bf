/**
 * `verify` in one pure function: the archive against iCloud (when a fresh enumeration is given)
 * and the manifest against the bucket. The command only gathers the inputs.
 */
import type { ArchiveCounters, ManifestEntry } from '#domain/model/manifest.ts';
import { compareLibrary } from './compare-library.ts';
import { compareObjects, type StoredObject } from './compare-objects.ts';
import type { LibraryAsset } from './library-asset.ts';
import type { ExtraFinding, MissingFinding, VerifyReport } from './verify-report.ts';

export interface VerifyInput {
  /** Every asset a fresh enumeration listed; omit to skip the iCloud side. */
  readonly library?: readonly LibraryAsset[];
  /** Every manifest entry. */
  readonly manifest: readonly ManifestEntry[];
  /** Every object in the bucket. */
  readonly objects: readonly StoredObject[];
  /** False for an SSE-KMS bucket, where no ETag is an MD5 (default true). */
  readonly etagsAreMd5?: boolean;
  /** `zoneId`s of retired zones (a Shared Library the person left): their entries are not extra. */
  readonly retiredZones?: readonly string[];
  /** The stored running totals, to show beside the recount. */
  readonly counters?: ArchiveCounters;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function findingKey(finding: MissingFinding | ExtraFinding): string {
  return 'key' in finding ? finding.key : `${finding.zone}|${finding.assetRecordName}`;
}

/** Compares everything `input` holds; findings come sorted by key (or asset) for stable output. */
export function compareArchive(input: VerifyInput): VerifyReport {
  const library =
    input.library === undefined
      ? undefined
      : compareLibrary(input.library, input.manifest, new Set(input.retiredZones));
  const objects = compareObjects(input.manifest, input.objects, input.etagsAreMd5 ?? true);
  const missing = [...(library?.missing ?? []), ...objects.missing].sort((a, b) =>
    byText(findingKey(a), findingKey(b)),
  );
  const extra = [...(library?.extra ?? []), ...objects.extra].sort((a, b) =>
    byText(findingKey(a), findingKey(b)),
  );
  const sizeMismatches = [...objects.sizeMismatches].sort((a, b) => byText(a.key, b.key));
  const checksumMismatches = [...objects.checksumMismatches].sort((a, b) => byText(a.key, b.key));
  return {
    ok: missing.length + extra.length + sizeMismatches.length + checksumMismatches.length === 0,
    missing,
    extra,
    sizeMismatches,
    checksumMismatches,
    md5UnavailableObjects: [...objects.md5UnavailableObjects].sort((a, b) => byText(a.key, b.key)),
    checked: {
      library: library !== undefined,
      libraryAssets: input.library?.length ?? 0,
      expectedVersions: library?.expectedVersions ?? 0,
      manifestEntries: input.manifest.length,
      manifestObjects: objects.manifestObjects,
      bucketObjects: input.objects.length,
      md5Compared: objects.md5Compared,
      md5Unavailable: objects.md5Unavailable,
      contentHashed: objects.contentHashed,
      etagsNotMd5: objects.etagsNotMd5,
    },
    ...(input.counters === undefined
      ? {}
      : {
          counters: {
            recorded: input.counters,
            recounted: { objects: objects.manifestObjects, bytes: objects.manifestBytes },
          },
        }),
  };
}
