/**
 * What the archive knows: one manifest entry per asset, the objects stored for it, what was
 * removed and why, key claims and the archive's running totals.
 */
import type { VersionKind } from './asset.ts';
import type { LockLease } from './sync-state.ts';
import { type ZoneRef, zoneId } from './zone.ts';

/** Which asset a manifest entry or a master user is. */
export interface AssetRef {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
}

/** How `getEntries` keys its answer: `zoneId#assetRecordName`. */
export function assetId(ref: AssetRef): string {
  return `${zoneId(ref.zone)}#${ref.assetRecordName}`;
}

/** One stored object of an asset. */
export interface ArchivedVersion {
  readonly kind: VersionKind;
  readonly key: string;
  readonly size: number;
  /** Lower-case hex. */
  readonly sha256: string;
  /** Lower-case hex. */
  readonly md5: string;
  /** Apple's `fileChecksum` of the resource this object was made from. */
  readonly fileChecksum: string;
  readonly archivedAt: number;
  readonly etag?: string;
  readonly versionId?: string;
  /**
   * `false`: an edit iCloud no longer lists, replaced by a newer edit or reverted (the object
   * stays); absent: current (and on entries written before edits were marked, the last listed
   * edit of a kind is the current one).
   */
  readonly current?: false;
}

/** An object the pipeline removed from the archive, and why (mirror policy, purge, superseded edit). */
export interface RecordedDeletion {
  readonly kind: VersionKind;
  readonly key: string;
  readonly deletedAt: number;
  readonly reason: string;
}

/**
 * `pending`: planned, not archived yet. `archived`: every selected version is stored.
 * `failed`: gave up for now (see `failure`). `trashed`: in Recently Deleted, objects kept.
 * `purged`: Apple hard-deleted it; objects kept or removed per policy (see `deletions`).
 * Assets that share a master (a duplicate, the Shared Library copy) each have their own entry
 * listing the same objects; `addMasterUser` records who uses them.
 */
export type ManifestStatus = 'pending' | 'archived' | 'failed' | 'trashed' | 'purged';

export interface ManifestFailure {
  readonly reason: string;
  /** When it was recorded (the worker's clock): the retry's backoff starts there. */
  readonly at: number;
  readonly attempts: number;
  /**
   * The `issuedAt` of the work message whose item failed: a redelivery of that message knows it
   * counted the failure. Absent on failures recorded before it existed.
   */
  readonly issuedAt?: number;
}

export interface ManifestFlags {
  readonly isFavorite: boolean;
  readonly isHidden: boolean;
  readonly isDeleted: boolean;
}

/** What the archive knows about one asset. */
export interface ManifestEntry extends AssetRef {
  readonly masterRecordName: string;
  readonly assetChangeTag: string;
  readonly masterChangeTag?: string;
  readonly status: ManifestStatus;
  readonly flags: ManifestFlags;
  /** Album record names the asset belongs to. */
  readonly albums: readonly string[];
  readonly versions: readonly ArchivedVersion[];
  readonly deletions: readonly RecordedDeletion[];
  readonly failure?: ManifestFailure;
  /**
   * The `issuedAt` of the work message whose iCloud state (status, flags, change tags) the entry
   * holds: an older message leaves that state alone (archive/state-order.ts). Absent on entries
   * written before it, or rebuilt from the bucket.
   */
  readonly stateAt?: number;
  readonly updatedAt: number;
  readonly revision: number;
}

export type ManifestEntryInput = Omit<ManifestEntry, 'updatedAt' | 'revision'>;

/**
 * What a key claim found: the key is another owner's, or it is ours; `fresh` when nobody had
 * claimed it before this write (every writer claims a key before storing at it, so nothing can be
 * stored there yet: no HEAD needed).
 */
export type ClaimOutcome =
  | { readonly claimed: true; readonly fresh: boolean }
  | { readonly claimed: false; readonly owner: string };

/**
 * What a claim that also takes the transfer lease found: the key belongs to another object; or it
 * is this object's and so is the lease (`fresh`: nobody had claimed the key before, so nothing
 * can be stored at it yet); or it is this object's and another worker is storing it right now.
 */
export type TransferClaim =
  | { readonly claimed: false; readonly owner: string }
  | {
      readonly claimed: true;
      readonly fresh: boolean;
      readonly lease: LockLease;
      /** What the claim says of the object's count, for `countObject` (opaque to the domain). */
      readonly count?: string;
    }
  | { readonly claimed: true; readonly heldBy: string; readonly expiresAt: number };

/** A claim that is this object's with its lease: what a fresh claim (or a renewal) gives. */
export type LeasedClaim = Extract<TransferClaim, { readonly lease: LockLease }>;

/** A key nobody has claimed yet, to claim with its transfer lease as a fresh `claimTransfer` would. */
export interface FreshKeyClaim {
  readonly key: string;
  readonly owner: string;
  readonly holder: string;
  readonly leaseMs: number;
  /** The object's size: the claim starts its count (as `claimTransfer` given a size). */
  readonly size?: number;
}

/** The most writes one all-or-nothing batch takes (DynamoDB's TransactWriteItems limit). */
export const MAX_BATCH_WRITES = 100;

/** The most fresh claims one batch takes: each writes its claim and its object's key item. */
export const MAX_FRESH_CLAIMS = MAX_BATCH_WRITES / 2;

/** A work message's entries with the keys recorded for its objects (`objectKey` items), by `objectId`. */
export interface EntriesAndObjectKeys {
  readonly entries: Map<string, ManifestEntry>;
  readonly objectKeys: Map<string, string>;
}

/**
 * What an all-or-nothing write of several items did: every item written (`written`, in the order
 * given), or none (`refused`: the positions whose condition failed; the others were refused only
 * because of them, or of a racing write, and may be written again).
 */
export type BatchWriteOutcome<T> =
  | { readonly written: readonly T[] }
  | { readonly refused: readonly number[] };

/** Running totals over the whole archive, for the mirror delete safety stop. */
export interface ArchiveCounters {
  readonly objects: number;
  readonly bytes: number;
}

/**
 * Whether work of order `at` (a message's issue time, as domain/archive/state-order.ts orders it)
 * is older than a state held since `held` (an entry's `stateAt`); either unknown: no. Here, beside
 * the entry, so the catalog's fold asks it without loading the workers' archive code.
 */
export function issuedBefore(at: number | undefined, held: number | undefined): boolean {
  return at !== undefined && held !== undefined && at < held;
}
