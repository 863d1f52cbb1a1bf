/**
 * The manifest against the bucket: every archived version's object exists with the recorded size
 * and MD5 (stated by the object, so nothing is downloaded) and, when its bytes were read back,
 * the recorded SHA-256; every object in the bucket is referenced by some manifest entry.
 */
import type { ArchivedVersion, ManifestEntry, RecordedDeletion } from '#domain/model/manifest.ts';
import { zoneId } from '#domain/model/zone.ts';
import type { ObjectEncryption } from '#ports/object-store.ts';
import { etagCanBeMd5, statedMd5 } from './object-md5.ts';
import type {
  ChecksumMismatch,
  ExtraFinding,
  Md5Unavailable,
  MissingFinding,
  SizeMismatch,
} from './verify-report.ts';

/** Hashes of an object's bytes, read back in full (`--deep`). */
export interface ContentDigest {
  readonly bytes: number;
  /** Lower-case hex. */
  readonly sha256: string;
  /** Lower-case hex. */
  readonly md5: string;
}

/** What the bucket says about one object: its listing, its head where one was read, its bytes' hashes with `--deep`. */
export interface StoredObject {
  readonly key: string;
  readonly size: number;
  /** Without quotes. */
  readonly etag: string;
  /** `md5chksum` metadata, when the head was read. */
  readonly md5Base64?: string;
  /** The encryption the head states, when it was read and states one. */
  readonly encryption?: ObjectEncryption;
  readonly content?: ContentDigest;
}

export interface ObjectComparison {
  readonly missing: MissingFinding[];
  readonly extra: ExtraFinding[];
  readonly sizeMismatches: SizeMismatch[];
  readonly checksumMismatches: ChecksumMismatch[];
  /** Referenced objects that state no MD5 (counted as `md5Unavailable`). */
  readonly md5UnavailableObjects: Md5Unavailable[];
  readonly manifestObjects: number;
  readonly manifestBytes: number;
  readonly md5Compared: number;
  readonly md5Unavailable: number;
  readonly contentHashed: number;
  readonly etagsNotMd5: number;
}

interface Reference {
  readonly entry: ManifestEntry;
  readonly version: ArchivedVersion;
}

/** Each key once, with the first entry that references it (duplicates of a master share keys). */
export function referencedObjects(manifest: readonly ManifestEntry[]): Map<string, Reference> {
  const references = new Map<string, Reference>();
  for (const entry of manifest) {
    for (const version of entry.versions) {
      if (!references.has(version.key)) references.set(version.key, { entry, version });
    }
  }
  return references;
}

function recordedDeletions(manifest: readonly ManifestEntry[]): Map<string, RecordedDeletion> {
  const deletions = new Map<string, RecordedDeletion>();
  for (const entry of manifest) for (const deletion of entry.deletions) deletions.set(deletion.key, deletion);
  return deletions;
}

export function compareObjects(
  manifest: readonly ManifestEntry[],
  objects: readonly StoredObject[],
  etagsAreMd5: boolean,
): ObjectComparison {
  const references = referencedObjects(manifest);
  const stored = new Map(objects.map((object) => [object.key, object]));
  const result: ObjectComparison = {
    missing: [],
    extra: [],
    sizeMismatches: [],
    checksumMismatches: [],
    md5UnavailableObjects: [],
    manifestObjects: references.size,
    manifestBytes: 0,
    md5Compared: 0,
    md5Unavailable: 0,
    contentHashed: 0,
    etagsNotMd5: 0,
  };
  let manifestBytes = 0;
  let md5Compared = 0;
  let md5Unavailable = 0;
  let contentHashed = 0;
  let etagsNotMd5 = 0;

  for (const [key, { entry, version }] of references) {
    manifestBytes += version.size;
    const where = { key, zone: zoneId(entry.zone), assetRecordName: entry.assetRecordName };
    const object = stored.get(key);
    if (object === undefined) {
      result.missing.push({ type: 'objectMissing', ...where, version: version.kind });
      continue;
    }
    if (!etagCanBeMd5(object.encryption)) etagsNotMd5++;
    const actualSize = object.content?.bytes ?? object.size;
    if (object.size !== version.size || actualSize !== version.size) {
      // A size mismatch explains any checksum mismatch: report it once.
      const actual = object.size !== version.size ? object.size : actualSize;
      result.sizeMismatches.push({ ...where, expected: version.size, actual });
      continue;
    }
    const stated = statedMd5(object, etagsAreMd5);
    if (stated === undefined) {
      md5Unavailable++;
      result.md5UnavailableObjects.push({ ...where, etag: object.etag });
    } else {
      md5Compared++;
      if (stated.md5 !== version.md5) {
        result.checksumMismatches.push({
          ...where,
          algorithm: 'md5',
          source: stated.source,
          expected: version.md5,
          actual: stated.md5,
        });
        continue;
      }
    }
    if (object.content !== undefined) {
      contentHashed++;
      if (object.content.sha256 !== version.sha256) {
        result.checksumMismatches.push({
          ...where,
          algorithm: 'sha256',
          source: 'content',
          expected: version.sha256,
          actual: object.content.sha256,
        });
      }
    }
  }

  const deletions = recordedDeletions(manifest);
  for (const object of objects) {
    if (references.has(object.key)) continue;
    const deletion = deletions.get(object.key);
    result.extra.push({
      type: 'unreferencedObject',
      key: object.key,
      size: object.size,
      ...(deletion === undefined
        ? {}
        : { recordedDeletion: { deletedAt: deletion.deletedAt, reason: deletion.reason } }),
    });
  }
  return { ...result, manifestBytes, md5Compared, md5Unavailable, contentHashed, etagsNotMd5 };
}
