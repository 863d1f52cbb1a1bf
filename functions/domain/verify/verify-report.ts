/**
 * What `verify` found: four lists (missing, extra, size mismatches, checksum mismatches) and
 * what was looked at. Plain JSON, printed as is by `icloud-s3 verify --json`.
 */

import type { VersionKind } from '#domain/model/asset.ts';
import type { ArchiveCounters, ManifestStatus } from '#domain/model/manifest.ts';
import type { Md5Source } from './object-md5.ts';

/** Something that should be in the archive and is not. */
export type MissingFinding =
  /** iCloud has the asset, the version policy selects this version, and no manifest entry holds it. */
  | {
      readonly type: 'notArchived';
      /** `zoneId` form: `private/_/PrimarySync`. */
      readonly zone: string;
      readonly assetRecordName: string;
      readonly fileName: string;
      readonly version: VersionKind;
      /** Why, from the manifest's point of view (`no manifest entry`, `failed: ...`, `version not archived`). */
      readonly reason: string;
    }
  /** The manifest lists an archived version whose object is not in the bucket. */
  | {
      readonly type: 'objectMissing';
      readonly key: string;
      readonly zone: string;
      readonly assetRecordName: string;
      readonly version: VersionKind;
    };

/** Something in the archive that should not be there. */
export type ExtraFinding =
  /** An object no manifest entry references (`recordedDeletion`: the manifest says it was deleted). */
  | {
      readonly type: 'unreferencedObject';
      readonly key: string;
      readonly size: number;
      readonly recordedDeletion?: { readonly deletedAt: number; readonly reason: string };
    }
  /** Archived versions of an asset iCloud no longer lists, without a recorded trash or purge. */
  | {
      readonly type: 'notInIcloud';
      readonly zone: string;
      readonly assetRecordName: string;
      readonly status: ManifestStatus;
      readonly keys: readonly string[];
    };

export interface SizeMismatch {
  readonly key: string;
  readonly zone: string;
  readonly assetRecordName: string;
  /** Bytes the manifest recorded. */
  readonly expected: number;
  /** Bytes the bucket holds (or that were read back, with `--deep`). */
  readonly actual: number;
}

export interface ChecksumMismatch {
  readonly key: string;
  readonly zone: string;
  readonly assetRecordName: string;
  readonly algorithm: 'md5' | 'sha256';
  /** Where the actual value came from: the object's ETag, its `md5chksum`, or its bytes. */
  readonly source: Md5Source | 'content';
  readonly expected: string;
  readonly actual: string;
}

/**
 * A referenced object of the right size that states no MD5 (`checked.md5Unavailable`): a multipart
 * object without `md5chksum`, as workers before the multipart copy left videos over 5 GiB.
 * `verify --repair` gives it the manifest's hashes (`repair.metadataAdded`).
 */
export interface Md5Unavailable {
  readonly key: string;
  readonly zone: string;
  readonly assetRecordName: string;
  /** The ETag verify read (without quotes): repair rewrites the object only while it is still this. */
  readonly etag: string;
}

export interface VerifyChecked {
  /** False when the iCloud side was skipped (`--no-icloud`). */
  readonly library: boolean;
  /** Assets iCloud listed (library, hidden and Recently Deleted). */
  readonly libraryAssets: number;
  /** Versions the policy selects for assets outside Recently Deleted. */
  readonly expectedVersions: number;
  readonly manifestEntries: number;
  /** Distinct object keys the manifest references. */
  readonly manifestObjects: number;
  readonly bucketObjects: number;
  /** Objects whose stated MD5 was compared with the manifest. */
  readonly md5Compared: number;
  /** Referenced objects that state no MD5 (multipart without `md5chksum`): only `--deep` checks them. */
  readonly md5Unavailable: number;
  /** Objects whose bytes were read back and hashed (`--deep`). */
  readonly contentHashed: number;
  /**
   * Referenced objects whose head states an encryption under which the ETag is not an MD5
   * (SSE-KMS, DSSE-KMS, SSE-C): their `md5chksum` was compared instead.
   */
  readonly etagsNotMd5: number;
}

export interface VerifyReport {
  /** True when nothing is missing, extra or mismatched. */
  readonly ok: boolean;
  readonly missing: readonly MissingFinding[];
  readonly extra: readonly ExtraFinding[];
  readonly sizeMismatches: readonly SizeMismatch[];
  readonly checksumMismatches: readonly ChecksumMismatch[];
  /**
   * The objects `checked.md5Unavailable` counts, in key order. Not differences (`ok` ignores them);
   * absent from reports of versions before it.
   */
  readonly md5UnavailableObjects?: readonly Md5Unavailable[];
  readonly checked: VerifyChecked;
  /** The running totals beside a recount from the manifest (they drift low after a crash; informational). */
  readonly counters?: { readonly recorded: ArchiveCounters; readonly recounted: ArchiveCounters };
}
