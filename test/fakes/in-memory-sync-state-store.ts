/**
 * `SyncStateStore` in memory with the real semantics: compare-and-set on revisions, key claims
 * compared with `foldKey`, leases that expire by the injected clock, runs newest first. Values
 * are deep-copied in and out, as a database would, so callers cannot mutate stored state.
 */

import { ConflictError, InvalidInputError } from '#domain/errors.ts';
import {
  type AlbumMember,
  type AlbumRef,
  compareMembers,
  type StoredAlbum,
  type StoredAlbumInput,
} from '#domain/model/album.ts';
import type { ArchiveOwner } from '#domain/model/archive-owner.ts';
import type { ArchiveSettings, ArchiveSettingsInput } from '#domain/model/archive-settings.ts';
import { foldKey } from '#domain/model/key-fold.ts';
import {
  type ArchiveCounters,
  type AssetRef,
  type BatchWriteOutcome,
  type ClaimOutcome,
  type EntriesAndObjectKeys,
  type FreshKeyClaim,
  type LeasedClaim,
  MAX_BATCH_WRITES,
  type ManifestEntry,
  type ManifestEntryInput,
  type TransferClaim,
} from '#domain/model/manifest.ts';
import {
  MAX_RUN_FAILURES,
  type RunFailure,
  type RunKind,
  type RunOutcome,
  type RunProgress,
  type RunRecord,
  type RunRef,
} from '#domain/model/run.ts';
import {
  type DatabaseSyncState,
  type FailedPhotoRetry,
  type LockAttempt,
  type LockLease,
  MAX_CHECKPOINT_BYTES,
  type SharedAlbumsCheck,
  type SharedAlbumsFailing,
  type ZoneSyncState,
  type ZoneSyncStateInput,
  type ZonesAndRetries,
} from '#domain/model/sync-state.ts';
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import { zoneId } from '#domain/model/zone.ts';
import { continuesStreak } from '#domain/shared-albums/failing-streak.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { UploadCheckpoint } from '#ports/object-store.ts';
import type {
  LastCheck,
  NoteFailedOptions,
  SyncStateStore,
  UnseenAsset,
  UnseenAssetsPage,
} from '#ports/sync-state-store.ts';

function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function checkRevision(current: { revision: number } | undefined, expected: number, what: string): void {
  if (!Number.isInteger(expected) || expected < 0) {
    throw new InvalidInputError(`expected revision must be a whole number >= 0, got ${expected}`);
  }
  if ((current?.revision ?? 0) !== expected)
    throw new ConflictError(`${what} changed since revision ${expected}`);
}

/** What a transaction refuses before looking at its items: too many, or one item twice. */
function checkBatch(ids: readonly string[]): void {
  if (ids.length > MAX_BATCH_WRITES)
    throw new InvalidInputError(`a batch holds at most ${MAX_BATCH_WRITES} writes, got ${ids.length}`);
  if (new Set(ids).size !== ids.length) throw new InvalidInputError('a batch writes each item once');
}

function assetId(ref: AssetRef): string {
  return `${zoneId(ref.zone)}#${ref.assetRecordName}`;
}

function albumId(ref: AlbumRef): string {
  return `${zoneId(ref.zone)}#${ref.recordName}`;
}

function runId(ref: RunRef): string {
  return `${String(ref.startedAt).padStart(15, '0')}#${ref.runId}`;
}

export class InMemorySyncStateStore implements SyncStateStore, AlbumStore {
  private readonly databases = new Map<DatabaseScope, DatabaseSyncState>();
  private readonly zones = new Map<string, ZoneSyncState>();
  private readonly locks = new Map<string, LockLease>();
  /** Failed photos waiting for detection to try them again, by asset id. */
  private readonly retries = new Map<string, FailedPhotoRetry>();
  private readonly manifest = new Map<string, ManifestEntry>();
  private readonly keyClaims = new Map<string, string>();
  /** The key recorded for each object (`objectKey` items), by `objectId`. */
  private readonly objectKeys = new Map<string, string>();
  private readonly masterUsersByMaster = new Map<string, Map<string, AssetRef>>();
  private readonly runs = new Map<string, RunRecord>();
  private readonly albums = new Map<string, StoredAlbum>();
  /** Members by album id, then by asset record name. */
  private readonly members = new Map<string, Map<string, AlbumMember>>();
  private counters: ArchiveCounters = { objects: 0, bytes: 0 };
  private lastCheck: number | undefined;
  private archiveSettings: ArchiveSettings | undefined;
  private archiveOwner: ArchiveOwner | undefined;
  private sharedAlbumsFailing: SharedAlbumsFailing | undefined;
  private readonly now: () => number;
  /** Enumeration stamps by asset id: the generation that last saw it. */
  private readonly seen = new Map<string, string>();
  /** Manifest ids in sort-key order, rebuilt only when a new entry appeared (like a table's index). */
  private sortedIds: string[] | undefined;
  private readonly unseenPageSize: number;
  /** Calls per method, for tests that count what a use case costs. */
  readonly reconcileCalls = { markSeen: 0, unseenAssets: 0 };
  /** Batched manifest reads (`getEntries`), one per hundred assets as DynamoDB would make. */
  batchReads = 0;

  constructor(options: { now?: () => number; unseenPageSize?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.unseenPageSize = options.unseenPageSize ?? 100;
  }

  async loadArchiveOwner(): Promise<ArchiveOwner | undefined> {
    return copy(this.archiveOwner);
  }

  async recordArchiveOwner(owner: ArchiveOwner): Promise<ArchiveOwner> {
    this.archiveOwner ??= { ...owner };
    return { ...this.archiveOwner };
  }

  async loadDatabaseState(database: DatabaseScope): Promise<DatabaseSyncState | undefined> {
    return copy(this.databases.get(database));
  }

  async saveDatabaseToken(database: DatabaseScope, syncToken: string, expectedRevision: number) {
    checkRevision(this.databases.get(database), expectedRevision, `the ${database} database token`);
    const state = { database, syncToken, updatedAt: this.now(), revision: expectedRevision + 1 };
    this.databases.set(database, state);
    return copy(state);
  }

  async recordCheck(at: number, sharedAlbums?: SharedAlbumsCheck): Promise<SharedAlbumsFailing | undefined> {
    // A later check already stored a later time: the whole write is refused, as DynamoDB's condition does.
    if (this.lastCheck !== undefined && this.lastCheck >= at) return undefined;
    this.lastCheck = at;
    if (sharedAlbums === undefined) return undefined;
    if (sharedAlbums === 'notFailing') {
      this.sharedAlbumsFailing = undefined;
      return undefined;
    }
    // A failure long after the streak's last one starts a new streak (failing-streak.ts).
    const going = this.sharedAlbumsFailing;
    this.sharedAlbumsFailing = {
      ...(going !== undefined && continuesStreak(going.lastFailedAt, at) ? going : undefined),
      since: going !== undefined && continuesStreak(going.lastFailedAt, at) ? going.since : at,
      lastFailedAt: at,
      ...sharedAlbums.failed,
    };
    return copy(this.sharedAlbumsFailing);
  }

  async markSharedAlbumsFailingReported(since: number, at: number): Promise<boolean> {
    const failing = this.sharedAlbumsFailing;
    if (failing?.since !== since || failing.reportedAt !== undefined) return false;
    this.sharedAlbumsFailing = { ...failing, reportedAt: at };
    return true;
  }

  async loadArchiveSettings(): Promise<ArchiveSettings | undefined> {
    return copy(this.archiveSettings);
  }

  async saveArchiveSettings(
    settings: ArchiveSettingsInput,
    expectedRevision: number,
  ): Promise<ArchiveSettings> {
    checkRevision(this.archiveSettings, expectedRevision, "the archive's recorded settings");
    this.archiveSettings = { ...copy(settings), updatedAt: this.now(), revision: expectedRevision + 1 };
    return copy(this.archiveSettings);
  }

  async lastCheckedAt(): Promise<number | undefined> {
    return this.lastCheck;
  }

  async loadLastCheck(): Promise<LastCheck> {
    return copy({
      ...(this.lastCheck === undefined ? {} : { at: this.lastCheck }),
      ...(this.sharedAlbumsFailing === undefined ? {} : { sharedAlbumsFailing: this.sharedAlbumsFailing }),
    });
  }

  async loadZone(zone: ZoneRef): Promise<ZoneSyncState | undefined> {
    return copy(this.zones.get(zoneId(zone)));
  }

  async loadZones(): Promise<ZoneSyncState[]> {
    return [...this.zones.values()].map(copy);
  }

  async loadZonesAndRetries(): Promise<ZonesAndRetries> {
    return { zones: await this.loadZones(), retries: [...this.retries.values()].map(copy) };
  }

  async noteFailedForRetry(ref: AssetRef, failedAt: number, options?: NoteFailedOptions): Promise<boolean> {
    const held = this.retries.get(assetId(ref));
    const { zone, assetRecordName } = ref;
    const tries = options?.tries ?? 0;
    this.retries.set(assetId(ref), copy({ tries, ...held, zone, assetRecordName, failedAt }));
    return held === undefined;
  }

  async recordRetryTried(retry: FailedPhotoRetry, tries: number, at: number): Promise<void> {
    const held = this.retries.get(assetId(retry));
    if (held !== undefined) this.retries.set(assetId(retry), { ...held, tries, lastTriedAt: at });
  }

  async dropRetry(retry: FailedPhotoRetry): Promise<void> {
    if (this.retries.get(assetId(retry))?.failedAt === retry.failedAt) this.retries.delete(assetId(retry));
  }

  async saveZone(state: ZoneSyncStateInput, expectedRevision: number): Promise<ZoneSyncState> {
    if (state.checkpoint !== undefined) {
      const bytes = Buffer.byteLength(JSON.stringify(state.checkpoint), 'utf8');
      if (bytes > MAX_CHECKPOINT_BYTES) throw new InvalidInputError(`checkpoint is ${bytes} bytes`);
    }
    checkRevision(this.zones.get(zoneId(state.zone)), expectedRevision, `zone ${state.zone.zoneName}`);
    const saved = copy({ ...state, updatedAt: this.now(), revision: expectedRevision + 1 });
    this.zones.set(zoneId(state.zone), saved);
    return copy(saved);
  }

  async acquireLock(name: string, owner: string, leaseMs: number): Promise<LockAttempt> {
    const now = this.now();
    const held = this.locks.get(name);
    if (held !== undefined && held.expiresAt > now && held.owner !== owner) {
      return { acquired: false, heldBy: held.owner, expiresAt: held.expiresAt };
    }
    const lease = { name, owner, expiresAt: now + leaseMs };
    this.locks.set(name, lease);
    return { acquired: true, lease: { ...lease } };
  }

  async releaseLock(lease: LockLease): Promise<boolean> {
    if (this.locks.get(lease.name)?.owner !== lease.owner) return false;
    this.locks.delete(lease.name);
    return true;
  }

  async getEntry(ref: AssetRef): Promise<ManifestEntry | undefined> {
    return copy(this.manifest.get(assetId(ref)));
  }

  async getEntries(refs: readonly AssetRef[]): Promise<Map<string, ManifestEntry>> {
    this.batchReads += Math.ceil(new Set(refs.map(assetId)).size / 100);
    const found = new Map<string, ManifestEntry>();
    for (const ref of refs) {
      const entry = this.manifest.get(assetId(ref));
      if (entry !== undefined) found.set(assetId(ref), copy(entry));
    }
    return found;
  }

  async getEntriesAndObjectKeys(
    refs: readonly AssetRef[],
    objectIds: readonly string[],
  ): Promise<EntriesAndObjectKeys> {
    const ids = new Set(objectIds);
    this.batchReads += Math.ceil((new Set(refs.map(assetId)).size + ids.size) / 100);
    const entries = new Map<string, ManifestEntry>();
    for (const ref of refs) {
      const entry = this.manifest.get(assetId(ref));
      if (entry !== undefined) entries.set(assetId(ref), copy(entry));
    }
    const objectKeys = new Map<string, string>();
    for (const id of ids) {
      const key = this.objectKeys.get(id);
      if (key !== undefined) objectKeys.set(id, key);
    }
    return { entries, objectKeys };
  }

  async putObjectKey(objectId: string, key: string): Promise<void> {
    this.objectKeys.set(objectId, key);
  }

  async forgetObjectKey(objectId: string, key: string): Promise<void> {
    if (this.objectKeys.get(objectId) === key) this.objectKeys.delete(objectId);
  }

  async recordMissingObjectKey(objectId: string, key: string): Promise<boolean> {
    if (this.objectKeys.has(objectId) || this.keyClaims.get(foldKey(key)) !== objectId) return false;
    this.objectKeys.set(objectId, key);
    return true;
  }

  /** The key recorded for an object: for tests that inspect it; not part of the port. */
  async recordedKey(objectId: string): Promise<string | undefined> {
    return this.objectKeys.get(objectId);
  }

  async putEntry(entry: ManifestEntryInput, expectedRevision: number): Promise<ManifestEntry> {
    checkRevision(
      this.manifest.get(assetId(entry)),
      expectedRevision,
      `manifest entry ${entry.assetRecordName}`,
    );
    const saved = copy({ ...entry, updatedAt: this.now(), revision: expectedRevision + 1 });
    if (!this.manifest.has(assetId(entry))) this.sortedIds = undefined;
    this.manifest.set(assetId(entry), saved);
    return copy(saved);
  }

  /** All or nothing, as one transaction: the entries whose revision moved refuse the batch. */
  async putEntries(
    writes: readonly { readonly entry: ManifestEntryInput; readonly expectedRevision: number }[],
  ): Promise<BatchWriteOutcome<ManifestEntry>> {
    checkBatch(writes.map((w) => assetId(w.entry)));
    const refused = writes.flatMap((write, index) => {
      try {
        checkRevision(this.manifest.get(assetId(write.entry)), write.expectedRevision, 'entry');
        return [];
      } catch (error) {
        if (error instanceof ConflictError) return [index];
        throw error;
      }
    });
    if (refused.length > 0) return { refused };
    // Written here, not through putEntry: a subclass counting putEntry calls sees none.
    const written = writes.map(({ entry, expectedRevision }) => {
      const saved = copy({ ...entry, updatedAt: this.now(), revision: expectedRevision + 1 });
      if (!this.manifest.has(assetId(entry))) this.sortedIds = undefined;
      this.manifest.set(assetId(entry), saved);
      return copy(saved);
    });
    return { written };
  }

  async *entries(): AsyncIterable<ManifestEntry> {
    for (const entry of [...this.manifest.values()]) yield copy(entry);
  }

  async markSeen(zone: ZoneRef, generation: string, assetRecordNames: readonly string[]): Promise<void> {
    this.reconcileCalls.markSeen += 1;
    for (const name of assetRecordNames) this.seen.set(assetId({ zone, assetRecordName: name }), generation);
  }

  /** Walks the manifest in sort-key order from the cursor (the last id of the previous page). */
  async unseenAssets(zone: ZoneRef, generation: string, cursor?: string): Promise<UnseenAssetsPage> {
    this.reconcileCalls.unseenAssets += 1;
    this.sortedIds ??= [...this.manifest.keys()].sort();
    const ids = this.sortedIds;
    const prefix = `${zoneId(zone)}#`;
    // The first id past the cursor, or the zone's first id.
    const past = (id: string) => (cursor === undefined ? id >= prefix : id > cursor);
    let low = 0;
    let high = ids.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (past(ids[middle] ?? '')) high = middle;
      else low = middle + 1;
    }
    const assets: UnseenAsset[] = [];
    let last: string | undefined;
    let index = low;
    for (; index < ids.length && index - low < this.unseenPageSize; index += 1) {
      const id = ids[index] ?? '';
      if (!id.startsWith(prefix)) break;
      last = id;
      const entry = this.manifest.get(id);
      if (entry === undefined || entry.status === 'purged' || this.seen.get(id) === generation) continue;
      assets.push({ assetRecordName: entry.assetRecordName, masterRecordName: entry.masterRecordName });
    }
    const more = index < ids.length && (ids[index] ?? '').startsWith(prefix);
    return more && last !== undefined ? { assets, cursor: last } : { assets };
  }

  async claimKey(key: string, owner: string): Promise<ClaimOutcome> {
    const folded = foldKey(key);
    const holder = this.keyClaims.get(folded);
    if (holder !== undefined && holder !== owner) return { claimed: false, owner: holder };
    this.keyClaims.set(folded, owner);
    return { claimed: true, fresh: holder === undefined };
  }

  /** Transfer leases by folded key: they live on the key's claim, as in the adapter. */
  private readonly transferLeases = new Map<string, { holder: string; expiresAt: number }>();

  async claimTransfer(key: string, owner: string, holder: string, leaseMs: number): Promise<TransferClaim> {
    const folded = foldKey(key);
    const current = this.keyClaims.get(folded);
    if (current !== undefined && current !== owner) return { claimed: false, owner: current };
    const now = this.now();
    const held = this.transferLeases.get(folded);
    if (held !== undefined && held.expiresAt > now && held.holder !== holder) {
      this.keyClaims.set(folded, owner);
      return { claimed: true, heldBy: held.holder, expiresAt: held.expiresAt };
    }
    this.keyClaims.set(folded, owner);
    const lease = { name: key, owner: holder, expiresAt: now + leaseMs };
    this.transferLeases.set(folded, { holder, expiresAt: lease.expiresAt });
    return { claimed: true, fresh: current === undefined, lease };
  }

  /** All or nothing, as one transaction: a key anyone has claimed refuses the batch. */
  async claimFreshKeys(claims: readonly FreshKeyClaim[]): Promise<BatchWriteOutcome<LeasedClaim>> {
    // Each claim's item and, once per owner, its object's key item: one transaction's actions.
    const owners = new Map<string, string>();
    for (const { owner, key } of claims) if (!owners.has(owner)) owners.set(owner, key);
    checkBatch([
      ...claims.map((claim) => `key#${foldKey(claim.key)}`),
      ...[...owners.keys()].map((owner) => `objectKey#${owner}`),
    ]);
    const refused = claims.flatMap((claim, index) => (this.keyClaims.has(foldKey(claim.key)) ? [index] : []));
    if (refused.length > 0) return { refused };
    for (const [owner, key] of owners) this.objectKeys.set(owner, key);
    const now = this.now();
    const written = claims.map(({ key, owner, holder, leaseMs }): LeasedClaim => {
      this.keyClaims.set(foldKey(key), owner);
      this.transferLeases.set(foldKey(key), { holder, expiresAt: now + leaseMs });
      return { claimed: true, fresh: true, lease: { name: key, owner: holder, expiresAt: now + leaseMs } };
    });
    return { written };
  }

  /** Resumable uploads' checkpoints by folded key: on the key claim, as in the adapter. */
  private readonly checkpoints = new Map<string, UploadCheckpoint>();

  async getTransferCheckpoint(key: string): Promise<UploadCheckpoint | undefined> {
    return this.checkpoints.get(foldKey(key));
  }

  async saveTransferCheckpoint(lease: LockLease, checkpoint: UploadCheckpoint): Promise<boolean> {
    const folded = foldKey(lease.name);
    if (!this.keyClaims.has(folded) || this.transferLeases.get(folded)?.holder !== lease.owner) return false;
    this.checkpoints.set(folded, structuredClone(checkpoint));
    return true;
  }

  async deleteTransferCheckpoint(key: string): Promise<void> {
    this.checkpoints.delete(foldKey(key));
  }

  async releaseTransfer(lease: LockLease): Promise<boolean> {
    const folded = foldKey(lease.name);
    if (this.transferLeases.get(folded)?.holder !== lease.owner) return false;
    this.transferLeases.delete(folded);
    return true;
  }

  /** Who holds a key (compared with `foldKey`): for tests that inspect claims; not part of the port. */
  async keyOwner(key: string): Promise<string | undefined> {
    return this.keyClaims.get(foldKey(key));
  }

  async releaseKey(key: string, owner: string): Promise<boolean> {
    const folded = foldKey(key);
    if (this.keyClaims.get(folded) !== owner) return false;
    this.keyClaims.delete(folded);
    this.checkpoints.delete(folded);
    this.transferLeases.delete(folded);
    return true;
  }

  async addMasterUser(masterRecordName: string, user: AssetRef): Promise<void> {
    const users = this.masterUsersByMaster.get(masterRecordName) ?? new Map<string, AssetRef>();
    users.set(assetId(user), copy({ zone: user.zone, assetRecordName: user.assetRecordName }));
    this.masterUsersByMaster.set(masterRecordName, users);
  }

  async addMasterUsers(
    users: readonly { readonly masterRecordName: string; readonly user: AssetRef }[],
  ): Promise<void> {
    for (const { masterRecordName, user } of users) await this.addMasterUser(masterRecordName, user);
  }

  async removeMasterUser(masterRecordName: string, user: AssetRef): Promise<void> {
    this.masterUsersByMaster.get(masterRecordName)?.delete(assetId(user));
  }

  async masterUsers(masterRecordName: string): Promise<AssetRef[]> {
    return [...(this.masterUsersByMaster.get(masterRecordName)?.values() ?? [])].map(copy);
  }

  async startRun(id: string, kind: RunKind, startedAt: number): Promise<RunRef> {
    const ref = { runId: id, startedAt };
    if (this.runs.has(runId(ref))) throw new ConflictError(`run ${id} was already started`);
    this.runs.set(runId(ref), {
      ...ref,
      kind,
      outcome: 'running',
      counts: {},
      appleRequests: {},
      failures: [],
    });
    return ref;
  }

  private run(ref: RunRef): RunRecord {
    const run = this.runs.get(runId(ref));
    if (run === undefined) throw new ConflictError(`run ${ref.runId} was never started`);
    return run;
  }

  async addRunProgress(ref: RunRef, progress: RunProgress): Promise<void> {
    const run = this.run(ref);
    const add = (into: Readonly<Record<string, number>>, from: Readonly<Record<string, number>> = {}) => {
      const sum = { ...into };
      for (const [name, value] of Object.entries(from)) {
        if (!Number.isFinite(value)) throw new InvalidInputError(`run count ${name} is not a number`);
        sum[name] = (sum[name] ?? 0) + value;
      }
      return sum;
    };
    this.runs.set(runId(ref), {
      ...run,
      counts: add(run.counts, progress.counts),
      appleRequests: add(run.appleRequests, progress.appleRequests),
    });
  }

  async recordRunFailure(ref: RunRef, failure: RunFailure): Promise<void> {
    const run = this.run(ref);
    if (run.failures.length >= MAX_RUN_FAILURES) return;
    this.runs.set(runId(ref), { ...run, failures: [...run.failures, copy(failure)] });
  }

  async finishRun(ref: RunRef, outcome: Exclude<RunOutcome, 'running'>, endedAt: number, message?: string) {
    const run = this.run(ref);
    this.runs.set(runId(ref), { ...run, outcome, endedAt, ...(message !== undefined && { message }) });
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    return [...this.runs.entries()]
      .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
      .slice(0, limit)
      .map(([, run]) => copy(run));
  }

  async adjustCounters(delta: Partial<ArchiveCounters>): Promise<ArchiveCounters> {
    this.counters = {
      objects: this.counters.objects + (delta.objects ?? 0),
      bytes: this.counters.bytes + (delta.bytes ?? 0),
    };
    return { ...this.counters };
  }

  async getCounters(): Promise<ArchiveCounters> {
    return { ...this.counters };
  }

  /** Sizes of the counted objects by folded key: one atomic step each, like the adapter's protocol. */
  private readonly countedObjects = new Map<string, number>();

  async countObject(key: string, size: number): Promise<void> {
    const folded = foldKey(key);
    if (this.countedObjects.has(folded)) return;
    this.countedObjects.set(folded, size);
    await this.adjustCounters({ objects: 1, bytes: size });
  }

  async countObjects(objects: readonly { readonly key: string; readonly size: number }[]): Promise<void> {
    // An object whose key nobody claims is not in the archive (a purge released it): not counted.
    for (const object of objects)
      if (this.keyClaims.has(foldKey(object.key))) await this.countObject(object.key, object.size);
  }

  /** Nothing is put off here: every step above is one atomic change. */
  async flush(): Promise<void> {}

  async uncountObject(key: string): Promise<void> {
    const folded = foldKey(key);
    const size = this.countedObjects.get(folded);
    if (size === undefined) return;
    this.countedObjects.delete(folded);
    await this.adjustCounters({ objects: -1, bytes: -size });
  }

  async loadAlbums(): Promise<StoredAlbum[]> {
    return [...this.albums.values()].map(copy);
  }

  async loadAlbum(ref: AlbumRef): Promise<StoredAlbum | undefined> {
    return copy(this.albums.get(albumId(ref)));
  }

  async saveAlbum(album: StoredAlbumInput, expectedRevision: number): Promise<StoredAlbum> {
    checkRevision(this.albums.get(albumId(album)), expectedRevision, `album ${album.recordName}`);
    const saved = copy({ ...album, updatedAt: this.now(), revision: expectedRevision + 1 });
    this.albums.set(albumId(album), saved);
    return copy(saved);
  }

  async albumMembers(album: AlbumRef): Promise<AlbumMember[]> {
    return [...(this.members.get(albumId(album))?.values() ?? [])].sort(compareMembers).map(copy);
  }

  async putAlbumMembers(album: AlbumRef, members: readonly AlbumMember[]): Promise<void> {
    const held = this.members.get(albumId(album)) ?? new Map<string, AlbumMember>();
    for (const member of members) held.set(member.assetRecordName, copy(member));
    this.members.set(albumId(album), held);
  }

  async removeAlbumMembers(album: AlbumRef, assetRecordNames: readonly string[]): Promise<void> {
    const held = this.members.get(albumId(album));
    for (const name of assetRecordNames) held?.delete(name);
  }

  async albumsOfAsset(zone: ZoneRef, assetRecordName: string): Promise<string[]> {
    const prefix = `${zoneId(zone)}#`;
    return [...this.members.entries()]
      .filter(([id, held]) => id.startsWith(prefix) && held.has(assetRecordName))
      .map(([id]) => id.slice(prefix.length))
      .sort();
  }
}
