/**
 * Everything the pipeline remembers between runs, except the iCloud session: sync tokens and
 * first-sync checkpoints, the detection lock, the archive manifest, key claims, the users of each master,
 * run records and the archive counters.
 *
 * Every write that can race is a compare-and-set. A lost race is a `ConflictError` (or a
 * `claimed: false` / `acquired: false` outcome), never a silent success. Revisions are positive
 * integers that grow by one per write; `0` as an expected revision means "must not exist yet".
 */
import type { DatabaseScope, VersionKind, ZoneRef } from '../domain/model.ts';

/** A JSON value, as stored verbatim (checkpoints are opaque to the store). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** Largest serialised checkpoint the store accepts (bytes of UTF-8 JSON). DynamoDB items stop at 400 KB. */
export const MAX_CHECKPOINT_BYTES = 256 * 1024;

/** Stable identity of a zone: database, owner and name. */
export function zoneId(zone: ZoneRef): string {
  return `${zone.database}/${zone.ownerRecordName ?? '_'}/${zone.zoneName}`;
}

/**
 * The comparison form of an object key: NFC, then case-folded through upper- and lower-case
 * (so `ß`, `SS` and `ss` fold together). Conservative on purpose: folding too much only costs a
 * suffixed key, folding too little costs a file that overwrites another on a case-insensitive NAS.
 */
export function foldKey(key: string): string {
  return key.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

export interface DatabaseSyncState {
  readonly database: DatabaseScope;
  /** Token for `changes/database`. */
  readonly syncToken: string;
  readonly updatedAt: number;
  readonly revision: number;
}

/** Where a zone stands. A zone with neither token nor checkpoint has never been synced. */
export interface ZoneSyncState {
  readonly zone: ZoneRef;
  /** Token for `changes/zone`; absent until the first full enumeration completed. */
  readonly syncToken?: string;
  /**
   * First-sync progress while an enumeration spans several runs (cursor, the zone token captured
   * on its first page, a pairing buffer...). Opaque to the store, at most `MAX_CHECKPOINT_BYTES`.
   */
  readonly checkpoint?: JsonValue;
  /** The zone is gone (ZONE_NOT_FOUND): detection skips it. */
  readonly retired?: boolean;
  /** When the last full enumeration of this zone completed (ms). */
  readonly lastFullScanAt?: number;
  readonly updatedAt: number;
  readonly revision: number;
}

/** What a zone write sets. Fields left out are removed (the write replaces the whole state). */
export type ZoneSyncStateInput = Omit<ZoneSyncState, 'updatedAt' | 'revision'>;

/** A held lock. Pass it back to renew or release. */
export interface LockLease {
  readonly name: string;
  readonly owner: string;
  readonly expiresAt: number;
}

export type LockAttempt =
  | { readonly acquired: true; readonly lease: LockLease }
  | { readonly acquired: false; readonly heldBy: string; readonly expiresAt: number };

/** Which asset a manifest entry or a master user is. */
export interface AssetRef {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
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
 * `duplicate`: the same master is archived under another asset (Shared Library copy).
 */
export type ManifestStatus = 'pending' | 'archived' | 'failed' | 'trashed' | 'purged' | 'duplicate';

export interface ManifestFailure {
  readonly reason: string;
  readonly at: number;
  readonly attempts: number;
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
  /** For `duplicate`: the asset whose objects hold this master. */
  readonly duplicateOf?: AssetRef;
  readonly updatedAt: number;
  readonly revision: number;
}

export type ManifestEntryInput = Omit<ManifestEntry, 'updatedAt' | 'revision'>;

export type ClaimOutcome = { readonly claimed: true } | { readonly claimed: false; readonly owner: string };

export type RunKind = 'detect' | 'download' | 'verify';
export type RunOutcome = 'running' | 'succeeded' | 'partial' | 'failed' | 'reauthRequired' | 'skipped';

/** Identifies a run record; returned by `startRun`, passed to the other run methods. */
export interface RunRef {
  readonly runId: string;
  readonly startedAt: number;
}

/** Numbers a run adds to its record; names are camelCase (`assetsEnqueued`, `bytesArchived`...). */
export interface RunProgress {
  readonly counts?: Readonly<Record<string, number>>;
  /** Requests to Apple by endpoint (`changes/zone`, `records/query`, `cdn`...). */
  readonly appleRequests?: Readonly<Record<string, number>>;
}

export interface RunFailure {
  /** What failed (an asset record name, a zone), never a secret. */
  readonly subject: string;
  readonly reason: string;
}

export interface RunRecord extends RunRef {
  readonly kind: RunKind;
  readonly endedAt?: number;
  readonly outcome: RunOutcome;
  readonly counts: Readonly<Record<string, number>>;
  readonly appleRequests: Readonly<Record<string, number>>;
  /** The first failures of the run (bounded). */
  readonly failures: readonly RunFailure[];
  readonly message?: string;
}

/** Running totals over the whole archive, for the mirror delete safety stop. */
export interface ArchiveCounters {
  readonly objects: number;
  readonly bytes: number;
}

export interface SyncStateStore {
  // -- tokens and checkpoints -------------------------------------------------------------

  loadDatabaseState(database: DatabaseScope): Promise<DatabaseSyncState | undefined>;
  /**
   * Stores the `changes/database` token. Call it only after every zone that delta named has
   * been handled durably. Throws `ConflictError` when the stored revision is not `expectedRevision`.
   */
  saveDatabaseToken(
    database: DatabaseScope,
    syncToken: string,
    expectedRevision: number,
  ): Promise<DatabaseSyncState>;

  loadZone(zone: ZoneRef): Promise<ZoneSyncState | undefined>;
  /** Every zone ever seen, retired ones included. */
  loadZones(): Promise<ZoneSyncState[]>;
  /**
   * Replaces a zone's state (token, checkpoint, flags) if its revision is still
   * `expectedRevision` (`0`: the zone must be new); otherwise throws `ConflictError`.
   *
   * Ordering contract: a new `syncToken` or checkpoint may be saved only AFTER the work of the
   * page it covers is durable (enqueued, or recorded in the manifest). Saving first would lose
   * that work forever if the run died in between; saving after only risks doing it twice, which
   * the idempotent archive absorbs. Finishing a first sync is one write: set `syncToken`, drop
   * `checkpoint`. Throws `InvalidInputError` when the checkpoint exceeds `MAX_CHECKPOINT_BYTES`.
   */
  saveZone(state: ZoneSyncStateInput, expectedRevision: number): Promise<ZoneSyncState>;

  // -- the detection lock -----------------------------------------------------------------

  /**
   * Takes the named lock for `leaseMs` if it is free, expired, or already held by `owner`
   * (which renews it). Otherwise reports who holds it until when.
   */
  acquireLock(name: string, owner: string, leaseMs: number): Promise<LockAttempt>;
  /** Extends a held lease. Throws `ConflictError` when the lock is no longer ours. */
  renewLock(lease: LockLease, leaseMs: number): Promise<LockLease>;
  /** Releases the lock if it is still ours; returns false (and changes nothing) otherwise. */
  releaseLock(lease: LockLease): Promise<boolean>;

  // -- the manifest -----------------------------------------------------------------------

  getEntry(ref: AssetRef): Promise<ManifestEntry | undefined>;
  /**
   * Writes a manifest entry if its revision is still `expectedRevision` (`0`: must be new).
   * Throws `ConflictError` when another worker wrote it first.
   */
  putEntry(entry: ManifestEntryInput, expectedRevision: number): Promise<ManifestEntry>;
  /** Every manifest entry, in no particular order, page by page (for `verify`). */
  entries(): AsyncIterable<ManifestEntry>;

  // -- claims -----------------------------------------------------------------------------

  /**
   * Claims an object key for `owner` under case-insensitive, NFC comparison (`foldKey`).
   * A repeated claim by the same owner succeeds; a claim by anyone else reports the holder.
   */
  claimKey(key: string, owner: string): Promise<ClaimOutcome>;
  /** Who holds a key (compared with `foldKey`), if anyone. */
  keyOwner(key: string): Promise<string | undefined>;
  /** Drops a claim held by `owner` (after a purge removed the object); false if not theirs. */
  releaseKey(key: string, owner: string): Promise<boolean>;

  // -- which assets use a master's objects --------------------------------------------------

  /**
   * Records that `user` uses the archived objects of `masterRecordName`. One master backs several
   * assets (an iOS Duplicate; your photo in PrimarySync and in the Shared Library, spec §6.6) and
   * they share its objects, so `mirror` deletes an object only when its last user is purged.
   * Idempotent. Call it BEFORE the manifest write that lists the objects: a crash in between
   * leaves a user without an entry, which only keeps objects longer.
   */
  addMasterUser(masterRecordName: string, user: AssetRef): Promise<void>;
  /** Forgets `user` as a user of `masterRecordName` (after its entry was marked purged). Idempotent. */
  removeMasterUser(masterRecordName: string, user: AssetRef): Promise<void>;
  /** Every asset recorded as using `masterRecordName`'s objects, in no particular order. */
  masterUsers(masterRecordName: string): Promise<AssetRef[]>;

  // -- runs -------------------------------------------------------------------------------

  /** Records the start of a run. Throws `ConflictError` if that run was already started. */
  startRun(runId: string, kind: RunKind, startedAt: number): Promise<RunRef>;
  /** Adds counts to a run (atomic increments; safe from many workers at once). */
  addRunProgress(run: RunRef, progress: RunProgress): Promise<void>;
  /** Appends a failure to the run, keeping only the first `MAX_RUN_FAILURES`. */
  recordRunFailure(run: RunRef, failure: RunFailure): Promise<void>;
  finishRun(
    run: RunRef,
    outcome: Exclude<RunOutcome, 'running'>,
    endedAt: number,
    message?: string,
  ): Promise<void>;
  /** The latest runs, newest start first. */
  listRuns(limit: number): Promise<RunRecord[]>;

  // -- archive counters -------------------------------------------------------------------

  /**
   * Adds to the archive totals (atomic). Call after the manifest write that the change belongs
   * to: a crash in between leaves the totals low, which only makes the delete stop stricter.
   */
  adjustCounters(delta: Partial<ArchiveCounters>): Promise<ArchiveCounters>;
  getCounters(): Promise<ArchiveCounters>;
  /** Overwrites the totals with a recount (`verify`). */
  resetCounters(counters: ArchiveCounters): Promise<void>;
}

/** How many failures a run record keeps. */
export const MAX_RUN_FAILURES = 50;
