/**
 * A `SyncStateStore` (DynamoDB) in front of which the Lambda process dies at a scheduled call:
 * before the write reached the table, or after it did without the caller learning it.
 */

import type { ArchiveOwner } from '#domain/model/archive-owner.ts';
import type { ArchiveSettingsInput } from '#domain/model/archive-settings.ts';
import type { ArchiveCounters, AssetRef, ManifestEntry, ManifestEntryInput } from '#domain/model/manifest.ts';
import type { RunFailure, RunKind, RunOutcome, RunProgress, RunRef } from '#domain/model/run.ts';
import type {
  FailedPhotoRetry,
  LockLease,
  SharedAlbumsCheck,
  ZoneSyncStateInput,
} from '#domain/model/sync-state.ts';
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import type { UploadCheckpoint } from '#ports/object-store.ts';
import type { NoteFailedOptions, SyncStateStore } from '#ports/sync-state-store.ts';
import type { CrashSchedule } from './crashing-invocation.ts';

export class CrashingSyncStateStore implements SyncStateStore {
  readonly #inner: SyncStateStore;
  readonly #schedule: CrashSchedule;

  constructor(inner: SyncStateStore, schedule: CrashSchedule) {
    this.#inner = inner;
    this.#schedule = schedule;
  }

  #at<T>(label: string, call: () => Promise<T>): Promise<T> {
    return this.#schedule.around(`state.${label}`, call);
  }

  loadArchiveOwner() {
    return this.#at('loadArchiveOwner', () => this.#inner.loadArchiveOwner());
  }
  recordArchiveOwner(owner: ArchiveOwner) {
    return this.#at('recordArchiveOwner', () => this.#inner.recordArchiveOwner(owner));
  }
  loadDatabaseState(database: DatabaseScope) {
    return this.#at('loadDatabaseState', () => this.#inner.loadDatabaseState(database));
  }
  saveDatabaseToken(database: DatabaseScope, syncToken: string, expectedRevision: number) {
    return this.#at('saveDatabaseToken', () =>
      this.#inner.saveDatabaseToken(database, syncToken, expectedRevision),
    );
  }
  recordCheck(at: number, sharedAlbums?: SharedAlbumsCheck) {
    return this.#at('recordCheck', () => this.#inner.recordCheck(at, sharedAlbums));
  }
  markSharedAlbumsFailingReported(since: number, at: number) {
    return this.#at('markSharedAlbumsFailingReported', () =>
      this.#inner.markSharedAlbumsFailingReported(since, at),
    );
  }
  loadArchiveSettings() {
    return this.#at('loadArchiveSettings', () => this.#inner.loadArchiveSettings());
  }
  saveArchiveSettings(settings: ArchiveSettingsInput, expectedRevision: number) {
    return this.#at('saveArchiveSettings', () => this.#inner.saveArchiveSettings(settings, expectedRevision));
  }
  lastCheckedAt() {
    return this.#at('lastCheckedAt', () => this.#inner.lastCheckedAt());
  }
  loadLastCheck() {
    return this.#at('loadLastCheck', () => this.#inner.loadLastCheck());
  }
  loadZone(zone: ZoneRef) {
    return this.#at('loadZone', () => this.#inner.loadZone(zone));
  }
  loadZones() {
    return this.#at('loadZones', () => this.#inner.loadZones());
  }
  loadZonesAndRetries() {
    return this.#at('loadZonesAndRetries', () => this.#inner.loadZonesAndRetries());
  }
  recordRetryTried(retry: FailedPhotoRetry, tries: number, at: number) {
    return this.#at('recordRetryTried', () => this.#inner.recordRetryTried(retry, tries, at));
  }
  dropRetry(retry: FailedPhotoRetry) {
    return this.#at('dropRetry', () => this.#inner.dropRetry(retry));
  }
  noteFailedForRetry(ref: AssetRef, failedAt: number, options?: NoteFailedOptions) {
    return this.#at('noteFailedForRetry', () => this.#inner.noteFailedForRetry(ref, failedAt, options));
  }
  saveZone(state: ZoneSyncStateInput, expectedRevision: number) {
    return this.#at('saveZone', () => this.#inner.saveZone(state, expectedRevision));
  }
  acquireLock(name: string, owner: string, leaseMs: number) {
    return this.#at('acquireLock', () => this.#inner.acquireLock(name, owner, leaseMs));
  }
  releaseLock(lease: LockLease) {
    return this.#at('releaseLock', () => this.#inner.releaseLock(lease));
  }
  markSeen(zone: ZoneRef, generation: string, assetRecordNames: readonly string[]) {
    return this.#at('markSeen', () => this.#inner.markSeen(zone, generation, assetRecordNames));
  }
  unseenAssets(zone: ZoneRef, generation: string, cursor?: string) {
    return this.#at('unseenAssets', () => this.#inner.unseenAssets(zone, generation, cursor));
  }
  getEntry(ref: AssetRef) {
    return this.#at('getEntry', () => this.#inner.getEntry(ref));
  }
  getEntries(refs: readonly AssetRef[]) {
    return this.#at('getEntries', () => this.#inner.getEntries(refs));
  }
  getEntriesAndObjectKeys(refs: readonly AssetRef[], objectIds: readonly string[]) {
    return this.#at('getEntriesAndObjectKeys', () => this.#inner.getEntriesAndObjectKeys(refs, objectIds));
  }
  putObjectKey(objectId: string, key: string) {
    return this.#at('putObjectKey', () => this.#inner.putObjectKey(objectId, key));
  }
  forgetObjectKey(objectId: string, key: string) {
    return this.#at('forgetObjectKey', () => this.#inner.forgetObjectKey(objectId, key));
  }
  putEntry(entry: ManifestEntryInput, expectedRevision: number) {
    return this.#at('putEntry', () => this.#inner.putEntry(entry, expectedRevision));
  }
  putEntries(writes: Parameters<SyncStateStore['putEntries']>[0]) {
    return this.#at('putEntries', () => this.#inner.putEntries(writes));
  }
  async *entries(): AsyncIterable<ManifestEntry> {
    const all = await this.#at('entries', async () => {
      const collected: ManifestEntry[] = [];
      for await (const entry of this.#inner.entries()) collected.push(entry);
      return collected;
    });
    yield* all;
  }
  addMasterUsers(users: readonly { readonly masterRecordName: string; readonly user: AssetRef }[]) {
    return this.#at('addMasterUsers', () => this.#inner.addMasterUsers(users));
  }
  claimFreshKeys(claims: Parameters<SyncStateStore['claimFreshKeys']>[0]) {
    return this.#at('claimFreshKeys', () => this.#inner.claimFreshKeys(claims));
  }
  claimKey(key: string, owner: string) {
    return this.#at('claimKey', () => this.#inner.claimKey(key, owner));
  }
  claimTransfer(key: string, owner: string, holder: string, leaseMs: number, size?: number) {
    return this.#at('claimTransfer', () => this.#inner.claimTransfer(key, owner, holder, leaseMs, size));
  }
  releaseTransfer(lease: LockLease) {
    return this.#at('releaseTransfer', () => this.#inner.releaseTransfer(lease));
  }
  getTransferCheckpoint(key: string) {
    return this.#at('getTransferCheckpoint', () => this.#inner.getTransferCheckpoint(key));
  }
  saveTransferCheckpoint(lease: LockLease, checkpoint: UploadCheckpoint) {
    return this.#at('saveTransferCheckpoint', () => this.#inner.saveTransferCheckpoint(lease, checkpoint));
  }
  deleteTransferCheckpoint(key: string) {
    return this.#at('deleteTransferCheckpoint', () => this.#inner.deleteTransferCheckpoint(key));
  }
  releaseKey(key: string, owner: string) {
    return this.#at('releaseKey', () => this.#inner.releaseKey(key, owner));
  }
  addMasterUser(masterRecordName: string, user: AssetRef) {
    return this.#at('addMasterUser', () => this.#inner.addMasterUser(masterRecordName, user));
  }
  removeMasterUser(masterRecordName: string, user: AssetRef) {
    return this.#at('removeMasterUser', () => this.#inner.removeMasterUser(masterRecordName, user));
  }
  masterUsers(masterRecordName: string) {
    return this.#at('masterUsers', () => this.#inner.masterUsers(masterRecordName));
  }
  startRun(runId: string, kind: RunKind, startedAt: number) {
    return this.#at('startRun', () => this.#inner.startRun(runId, kind, startedAt));
  }
  addRunProgress(run: RunRef, progress: RunProgress) {
    return this.#at('addRunProgress', () => this.#inner.addRunProgress(run, progress));
  }
  recordRunFailure(run: RunRef, failure: RunFailure) {
    return this.#at('recordRunFailure', () => this.#inner.recordRunFailure(run, failure));
  }
  finishRun(run: RunRef, outcome: Exclude<RunOutcome, 'running'>, endedAt: number, message?: string) {
    return this.#at('finishRun', () => this.#inner.finishRun(run, outcome, endedAt, message));
  }
  listRuns(limit: number) {
    return this.#at('listRuns', () => this.#inner.listRuns(limit));
  }
  adjustCounters(delta: Partial<ArchiveCounters>) {
    return this.#at('adjustCounters', () => this.#inner.adjustCounters(delta));
  }
  recordMissingObjectKey(objectId: string, key: string) {
    return this.#at('recordMissingObjectKey', () => this.#inner.recordMissingObjectKey(objectId, key));
  }
  getCounters() {
    return this.#at('getCounters', () => this.#inner.getCounters());
  }
  countObject(key: string, size: number, count?: string) {
    return this.#at('countObject', () => this.#inner.countObject(key, size, count));
  }
  flush() {
    return this.#at('flush', () => this.#inner.flush());
  }
  countObjects(objects: Parameters<SyncStateStore['countObjects']>[0]) {
    return this.#at('countObjects', () => this.#inner.countObjects(objects));
  }
  uncountObject(key: string) {
    return this.#at('uncountObject', () => this.#inner.uncountObject(key));
  }
}
