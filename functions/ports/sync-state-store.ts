/**
 * Everything the pipeline remembers between runs, except the iCloud session: sync tokens and
 * first-sync checkpoints, the detection lock, the archive manifest, key claims, the users of each master,
 * run records and the archive counters.
 *
 * Every write that can race is a compare-and-set. A lost race is a `ConflictError` (or a
 * `claimed: false` / `acquired: false` outcome), never a silent success. Revisions are positive
 * integers that grow by one per write; `0` as an expected revision means "must not exist yet".
 */

import type { ArchiveOwnerStore } from '#domain/account/archive-owner.ts';
import type { ArchiveSettings, ArchiveSettingsInput } from '#domain/model/archive-settings.ts';
import type {
  ArchiveCounters,
  AssetRef,
  BatchWriteOutcome,
  ClaimOutcome,
  EntriesAndObjectKeys,
  FreshKeyClaim,
  LeasedClaim,
  ManifestEntry,
  ManifestEntryInput,
  TransferClaim,
} from '#domain/model/manifest.ts';
import type { RunFailure, RunKind, RunOutcome, RunProgress, RunRecord, RunRef } from '#domain/model/run.ts';
import type {
  DatabaseSyncState,
  FailedPhotoRetry,
  LockAttempt,
  LockLease,
  SharedAlbumsCheck,
  SharedAlbumsFailing,
  ZoneSyncState,
  ZoneSyncStateInput,
  ZonesAndRetries,
} from '#domain/model/sync-state.ts';
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import type { UploadCheckpoint } from './object-store.ts';

/** A manifest entry the reconciling enumeration did not see: enough to look it up in iCloud. */
/** How a photo enters the retry list when it is not on it yet. */
export interface NoteFailedOptions {
  /**
   * The tries it enters with (default 0: the quick tries first). Work the redrive pass gave up
   * after a day of redrives enters as tried that long (`GIVEN_UP_TRIES`: daily, already told).
   */
  readonly tries?: number;
}

export interface UnseenAsset {
  readonly assetRecordName: string;
  readonly masterRecordName: string;
}

/** One page of `unseenAssets`; `cursor` absent once the zone's manifest is exhausted. */
export interface UnseenAssetsPage {
  readonly assets: readonly UnseenAsset[];
  /** Opaque resume point (a few dozen bytes): persist it in the zone's checkpoint. */
  readonly cursor?: string;
}

/** The detector's last-check record, as `status` reads it. */
export interface LastCheck {
  readonly at?: number;
  readonly sharedAlbumsFailing?: SharedAlbumsFailing;
}

/**
 * The part the change detector uses (its Lambda composes an adapter of this alone): tokens and
 * checkpoints, locks, manifest reads, the reconciling enumeration, its runs and the totals.
 */
export interface DetectionStateStore extends ArchiveOwnerStore {
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
  /**
   * Notes that a detection asked iCloud at `at`: the one write an idle check makes (one small
   * conditional update), so `status` can say when the archive was last checked. Never moves the
   * time back (a slow older run loses: nothing is written, undefined returned).
   *
   * `sharedAlbums`, in the same write: a failed step starts a failing streak (its `since` kept
   * while it lasts) or extends it, and the streak is returned; `notFailing` ends any streak.
   * Without it the streak is left as it is (returned undefined).
   */
  recordCheck(at: number, sharedAlbums?: SharedAlbumsCheck): Promise<SharedAlbumsFailing | undefined>;
  /**
   * Marks the failing streak that began at `since` as told to the alarm, at `at`: true for the one
   * call that marked it; false when it was marked already or the streak ended or changed meanwhile.
   */
  markSharedAlbumsFailingReported(since: number, at: number): Promise<boolean>;
  /**
   * The settings the archive was last synced with (`#domain/model/archive-settings.ts`): one small
   * item, read once per detection run and by `verify`; undefined before a run recorded them.
   */
  loadArchiveSettings(): Promise<ArchiveSettings | undefined>;
  /**
   * Replaces the recorded settings if their revision is still `expectedRevision` (`0`: none
   * recorded yet); otherwise throws `ConflictError`.
   */
  saveArchiveSettings(settings: ArchiveSettingsInput, expectedRevision: number): Promise<ArchiveSettings>;

  loadZone(zone: ZoneRef): Promise<ZoneSyncState | undefined>;
  /** Every zone ever seen, retired ones included. */
  loadZones(): Promise<ZoneSyncState[]>;
  /**
   * The zones (as `loadZones`) and the failed photos waiting to be tried again, in the same read
   * (they are kept beside the zone states): what a detection run needs first.
   */
  loadZonesAndRetries(): Promise<ZonesAndRetries>;
  /**
   * Counts a retry of a failed photo (`tries`, `lastTriedAt`); nothing when it left the list
   * meanwhile (never brings it back).
   */
  recordRetryTried(retry: FailedPhotoRetry, tries: number, at: number): Promise<void>;
  /** Takes a failed photo off the retry list, unless it failed again since `retry.failedAt`. */
  dropRetry(retry: FailedPhotoRetry): Promise<void>;
  /**
   * Puts a photo on detection's retry list (or notes the new failure of one already there, its
   * tries kept): one the workers just recorded `failed`, or one whose work the dead-letter queue
   * gave up (the detector's redrive pass). Idempotent. Resolves `true` when the photo was not on
   * the list before (newly listed), `false` when it was (the list tells a photo still failing once:
   * the redrive pass counts a give-up only for a photo it newly lists).
   */
  noteFailedForRetry(ref: AssetRef, failedAt: number, options?: NoteFailedOptions): Promise<boolean>;
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
  /** Releases the lock if it is still ours; returns false (and changes nothing) otherwise. */
  releaseLock(lease: LockLease): Promise<boolean>;

  // -- the manifest, read ----------------------------------------------------------------

  getEntry(ref: AssetRef): Promise<ManifestEntry | undefined>;
  /**
   * The entries of several assets at once (a work message's: one batched read), keyed by
   * `zoneId#assetRecordName`; assets without an entry are absent. Strongly consistent.
   */
  getEntries(refs: readonly AssetRef[]): Promise<Map<string, ManifestEntry>>;
  /**
   * Every asset recorded as using `masterRecordName`'s objects (`addMasterUser`), in no particular
   * order. The detector reads it too: a master's tombstone purges through these users, so the
   * mirror safety stop counts it through them.
   */
  masterUsers(masterRecordName: string): Promise<AssetRef[]>;

  // -- reconciling a full enumeration -------------------------------------------------------

  /**
   * Stamps these assets of `zone` as returned by the full enumeration `generation` (a stamp per
   * asset, kept apart from its manifest entry so it never races a worker's compare-and-set; a
   * later stamp replaces an earlier one). Idempotent. Call it with one enumeration page at a
   * time, before the checkpoint that moves past the page is saved.
   */
  markSeen(zone: ZoneRef, generation: string, assetRecordNames: readonly string[]): Promise<void>;
  /**
   * One page of `zone`'s manifest entries that are not `purged` and carry no stamp of
   * `generation`: what that enumeration did not return. Start without `cursor`, pass back the
   * returned one until it is absent. A page holds at most a few hundred assets and may be empty
   * while a cursor remains; memory and cost stay bounded by the page, whatever the zone's size.
   */
  unseenAssets(zone: ZoneRef, generation: string, cursor?: string): Promise<UnseenAssetsPage>;

  // -- runs and totals --------------------------------------------------------------------

  /** Records the start of a run. Throws `ConflictError` if that run was already started. */
  startRun(runId: string, kind: RunKind, startedAt: number): Promise<RunRef>;
  /** Adds counts to a run (atomic increments; safe from many workers at once). */
  addRunProgress(run: RunRef, progress: RunProgress): Promise<void>;
  finishRun(
    run: RunRef,
    outcome: Exclude<RunOutcome, 'running'>,
    endedAt: number,
    message?: string,
  ): Promise<void>;
  getCounters(): Promise<ArchiveCounters>;
}

/**
 * The part the download workers use (their Lambda composes an adapter of this alone): manifest
 * reads and writes, key claims and transfer leases, the users of each master, run progress and
 * failures, and exactly-once counting.
 */
export interface ArchiveStateStore
  extends Pick<
    DetectionStateStore,
    | 'getEntry'
    | 'getEntries'
    | 'masterUsers'
    | 'addRunProgress'
    | 'getCounters'
    | 'noteFailedForRetry'
    | 'loadArchiveOwner'
  > {
  /**
   * `getEntries`, and in the same batched read the key recorded for each of `objectIds` (where
   * the object is stored, whichever asset stored it: `putObjectKey`); an object without one is
   * absent (archived before these were recorded, or forgotten by a purge).
   */
  getEntriesAndObjectKeys(
    refs: readonly AssetRef[],
    objectIds: readonly string[],
  ): Promise<EntriesAndObjectKeys>;
  /**
   * Records `key` as the key of the object `objectId` (replacing any other). Written beside its
   * claim (`claimFreshKeys` writes it in the same transaction), idempotent.
   */
  putObjectKey(objectId: string, key: string): Promise<void>;
  /** Forgets the key of `objectId` when it is still `key` (a purge deleting that object). */
  forgetObjectKey(objectId: string, key: string): Promise<void>;

  // -- the manifest, written --------------------------------------------------------------

  /**
   * Writes a manifest entry if its revision is still `expectedRevision` (`0`: must be new).
   * Throws `ConflictError` when another worker wrote it first.
   */
  putEntry(entry: ManifestEntryInput, expectedRevision: number): Promise<ManifestEntry>;
  /**
   * `putEntry` for several assets (a work message's, once their transfers are done) in one
   * all-or-nothing write: every entry is written, each only if its revision is still its
   * `expectedRevision`, or none is. `refused` names the entries whose revision moved (the caller
   * re-reads and merges them, as after a `ConflictError`); the others were held back with them,
   * or by a racing write, and may be written again. At most `MAX_BATCH_WRITES` entries, each asset
   * once (else `InvalidInputError`). The ordering rules of `putEntry` hold for each entry: master
   * users recorded before it, its objects counted after it.
   */
  putEntries(
    writes: readonly { readonly entry: ManifestEntryInput; readonly expectedRevision: number }[],
  ): Promise<BatchWriteOutcome<ManifestEntry>>;

  // -- claims -----------------------------------------------------------------------------

  /**
   * Claims an object key for `owner` under case-insensitive, NFC comparison (`foldKey`).
   * A repeated claim by the same owner succeeds; a claim by anyone else reports the holder.
   */
  claimKey(key: string, owner: string): Promise<ClaimOutcome>;
  /** Drops a claim held by `owner` (after a purge removed the object); false if not theirs. */
  releaseKey(key: string, owner: string): Promise<boolean>;
  /**
   * Claims `key` for `owner` (as `claimKey`) and, in the same conditional write, takes the lease
   * on storing its object for `holder` for `leaseMs`: one download per object however many
   * workers reach it. The lease is taken when it is free, expired, or already `holder`'s (a
   * renewal); when another holder's lease is live the claim stands and the holder is reported.
   * `fresh` says no claim existed before this one: no object can be stored at the key yet (objects
   * are stored only under a claim), so there is nothing to look for. The lease (`name` = `key`)
   * lives on the claim item; `releaseTransfer` ends it, `releaseKey` drops both. Given the
   * object's `size`, the same write starts its count when it has none (finished by `countObjects`,
   * or `countObject`, with the claim's `count`, once the object is stored).
   */
  claimTransfer(
    key: string,
    owner: string,
    holder: string,
    leaseMs: number,
    size?: number,
  ): Promise<TransferClaim>;
  /**
   * Claims several keys nobody has claimed yet (a work message's new objects, before their
   * transfers start) in one all-or-nothing write: each as a fresh `claimTransfer` would (the
   * owner, the lease for its holder, the count started given a size), so each result is
   * `fresh` with its lease (and the `count` to hand to `countObjects`), or none is written.
   * `refused` names the keys someone has claimed already (whoever: a retry, a shared master, a
   * name twin): the caller claims them with `claimTransfer`; the others were held back with them
   * and may be claimed again. Each claim's owner (an `objectId`) gets its key recorded in the same
   * write (`putObjectKey`), the first claim's where an owner has two. At most `MAX_FRESH_CLAIMS`
   * claims, no two on one key (`foldKey`).
   */
  claimFreshKeys(claims: readonly FreshKeyClaim[]): Promise<BatchWriteOutcome<LeasedClaim>>;
  /** Ends a transfer lease if it is still its holder's (the claim stays); false otherwise. */
  releaseTransfer(lease: LockLease): Promise<boolean>;
  /**
   * The checkpoint of a resumable upload of the object at `key` (kept on its key claim), if any:
   * how far an earlier delivery stored a video too long for one invocation.
   */
  getTransferCheckpoint(key: string): Promise<UploadCheckpoint | undefined>;
  /**
   * Keeps `checkpoint` on the key claim of `lease.name`, only while `lease` is its holder's (the
   * fencing of transfer-lease.ts: a worker that lost the lease saves nothing); false otherwise.
   */
  saveTransferCheckpoint(lease: LockLease, checkpoint: UploadCheckpoint): Promise<boolean>;
  /** Drops the checkpoint at `key` (its upload completed or given up); none is no error. */
  deleteTransferCheckpoint(key: string): Promise<void>;

  // -- which assets use a master's objects --------------------------------------------------

  /**
   * Records that `user` uses the archived objects of `masterRecordName`. One master backs several
   * assets (an iOS Duplicate; your photo in PrimarySync and in the Shared Library, docs/protocol/records.md#cross-zone-identity) and
   * they share its objects, so `mirror` deletes an object only when its last user is purged.
   * Idempotent. Call it BEFORE the manifest write that lists the objects: a crash in between
   * leaves a user without an entry, which only keeps objects longer.
   */
  addMasterUser(masterRecordName: string, user: AssetRef): Promise<void>;
  /** `addMasterUser` for several assets at once (a work message's new assets: one batched write). */
  addMasterUsers(
    users: readonly { readonly masterRecordName: string; readonly user: AssetRef }[],
  ): Promise<void>;
  /** Forgets `user` as a user of `masterRecordName` (after its entry was marked purged). Idempotent. */
  removeMasterUser(masterRecordName: string, user: AssetRef): Promise<void>;

  // -- runs -------------------------------------------------------------------------------

  /** Appends a failure to the run, keeping only the first `MAX_RUN_FAILURES`. */
  recordRunFailure(run: RunRef, failure: RunFailure): Promise<void>;

  // -- exactly-once counts ----------------------------------------------------------------

  /**
   * Counts the object stored at `key` (`size` bytes) in the totals exactly once: repeated calls,
   * calls from several workers at once and a retry after a crash part-way through all leave it
   * counted once (a count left half-done is finished by the next call). Call it once the object
   * is stored, before the manifest write that lists it, so a crash in between is repaired by the
   * retry that adopts the object. `key` is compared like a key claim (`foldKey`). `count` is what
   * `claimTransfer` said of it, when this worker claimed the key: it spares a read.
   */
  countObject(key: string, size: number, count?: string): Promise<void>;
  /**
   * `countObject` for the objects a work message stored or adopted, in as few writes as the store
   * can (one for the counts its worker started on fresh claims). Called once the message's items
   * are done, after the manifest writes that list the objects: a crash in between is repaired by
   * the message's redelivery, which finds those entries written and counts their objects again
   * (adding nothing to what was counted). An object whose key nobody claims is not counted: objects
   * are stored only under a claim, and a purge releases it once the object is deleted.
   */
  countObjects(
    objects: readonly { readonly key: string; readonly size: number; readonly count?: string }[],
  ): Promise<void>;
  /**
   * Finishes bookkeeping the store put off to batch it (the end of a download batch calls it).
   * Skipping it (a crash) costs a few bytes on the counters item, never a count.
   */
  flush(): Promise<void>;
  /**
   * Takes the object at `key` out of the totals exactly once, after it was deleted; nothing
   * happens for a key that is not counted.
   */
  uncountObject(key: string): Promise<void>;
}

/** Everything: the CLI's and the one-machine runtime's store, which detects and archives. */
export interface SyncStateStore extends DetectionStateStore, ArchiveStateStore {
  /** When a detection last asked iCloud, idle checks included; undefined before the first. */
  lastCheckedAt(): Promise<number | undefined>;
  /** `lastCheckedAt` and, while it lasts, the Shared Albums step's failing streak (one read). */
  loadLastCheck(): Promise<LastCheck>;
  /** Every manifest entry, in no particular order, page by page (for `verify`). */
  entries(): AsyncIterable<ManifestEntry>;
  /** The latest runs, newest start first. */
  listRuns(limit: number): Promise<RunRecord[]>;
  /**
   * Adds to the archive totals (atomic, not idempotent: a repeated call counts twice and a crash
   * before it counts nothing). The archive counts through `countObject`/`uncountObject`.
   */
  adjustCounters(delta: Partial<ArchiveCounters>): Promise<ArchiveCounters>;
  /**
   * Records `key` as the key of the object `objectId` (as `putObjectKey`) only while none is
   * recorded and the claim of `key` is the object's own, in one conditional write: for objects
   * archived before these items (`verify --repair`). An item a worker wrote meanwhile stays, and
   * so does a key another object holds or nobody does (a purge released it). True when written.
   */
  recordMissingObjectKey(objectId: string, key: string): Promise<boolean>;
}
