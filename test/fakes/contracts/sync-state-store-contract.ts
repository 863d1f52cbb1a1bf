/**
 * The behaviour every `SyncStateStore` must have. Run against the DynamoDB adapter (on dynalite)
 * and against the in-memory fake, so the fake the pipeline tests use cannot drift from the real one.
 */

import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError } from '#domain/errors.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import { MAX_RUN_FAILURES } from '#domain/model/run.ts';
import { MAX_CHECKPOINT_BYTES } from '#domain/model/sync-state.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import { FAILING_STREAK_GAP_MS } from '#domain/shared-albums/failing-streak.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';

export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let current = start;
  return { now: () => current, advance: (ms) => (current += ms) };
}

export type StoreFactory = (clock: ManualClock) => Promise<SyncStateStore>;

const primary: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const shared: ZoneRef = { database: 'shared', zoneName: 'SharedSync-1A2B', ownerRecordName: '_owner' };

function entry(assetRecordName: string, overrides: Partial<ManifestEntryInput> = {}): ManifestEntryInput {
  return {
    zone: primary,
    assetRecordName,
    masterRecordName: `M-${assetRecordName}`,
    assetChangeTag: 'a1',
    masterChangeTag: 'm1',
    status: 'archived',
    flags: { isFavorite: false, isHidden: false, isDeleted: false },
    albums: ['album-1'],
    versions: [
      {
        kind: 'original',
        key: `2024/06/01/IMG_${assetRecordName}.HEIC`,
        size: 1234,
        sha256: 'ab'.repeat(32),
        md5: 'cd'.repeat(16),
        fileChecksum: 'AQID',
        archivedAt: 1_700_000_000_000,
      },
    ],
    deletions: [],
    ...overrides,
  };
}

export function describeSyncStateStoreContract(name: string, createStore: StoreFactory): void {
  describe(`${name} (SyncStateStore contract)`, () => {
    const setUp = async () => {
      const clock = manualClock();
      return { clock, store: await createStore(clock) };
    };

    describe("the archive's account", () => {
      it('is unknown until recorded, then the first recorded stands (a second record returns it)', async () => {
        const { store } = await setUp();
        expect(await store.loadArchiveOwner()).toBeUndefined();
        const a = { accountId: `sha256:${'a'.repeat(64)}`, label: 'a***@e***.com', since: 1_000 };
        expect(await store.recordArchiveOwner(a)).toEqual(a);
        const b = { accountId: `sha256:${'b'.repeat(64)}`, since: 2_000 };
        expect(await store.recordArchiveOwner(b)).toEqual(a);
        expect(await store.loadArchiveOwner()).toEqual(a);
      });
    });

    describe('the time of the last check', () => {
      it('is unknown before the first check, then the latest check, never moved back', async () => {
        const { store } = await setUp();
        expect(await store.lastCheckedAt()).toBeUndefined();
        await store.recordCheck(2_000);
        await store.recordCheck(1_000);
        expect(await store.lastCheckedAt()).toBe(2_000);
        await store.recordCheck(3_000);
        expect(await store.lastCheckedAt()).toBe(3_000);
      });

      it("keeps the Shared Albums step's failing streak beside it, its start kept, until a run is not failing", async () => {
        const { store } = await setUp();
        const failed = (message: string) => ({ failed: { errorClass: 'fatal' as const, message } });
        expect(await store.recordCheck(1_000, failed('first'))).toEqual({
          since: 1_000,
          lastFailedAt: 1_000,
          errorClass: 'fatal',
          message: 'first',
        });
        // A check without a word on Shared Albums (none ran) leaves the streak as it is.
        expect(await store.recordCheck(1_500)).toBeUndefined();
        expect(await store.recordCheck(2_000, failed('second'))).toMatchObject({
          since: 1_000,
          lastFailedAt: 2_000,
          message: 'second',
        });
        // Told once: a second mark (another run at once) and a mark of another streak are refused.
        expect(await store.markSharedAlbumsFailingReported(1_000, 2_100)).toBe(true);
        expect(await store.markSharedAlbumsFailingReported(1_000, 2_200)).toBe(false);
        expect(await store.markSharedAlbumsFailingReported(999, 2_200)).toBe(false);
        expect(await store.loadLastCheck()).toEqual({
          at: 2_000,
          sharedAlbumsFailing: {
            since: 1_000,
            lastFailedAt: 2_000,
            errorClass: 'fatal',
            message: 'second',
            reportedAt: 2_100,
          },
        });
        // A slow older run loses: nothing written.
        expect(await store.recordCheck(1_800, 'notFailing')).toBeUndefined();
        expect((await store.loadLastCheck()).sharedAlbumsFailing?.since).toBe(1_000);
        await store.recordCheck(3_000, 'notFailing');
        expect(await store.loadLastCheck()).toEqual({ at: 3_000 });
        expect(await store.markSharedAlbumsFailingReported(1_000, 3_100)).toBe(false);
        // A new streak starts afresh, untold.
        expect(await store.recordCheck(4_000, failed('again'))).toEqual({
          since: 4_000,
          lastFailedAt: 4_000,
          errorClass: 'fatal',
          message: 'again',
        });
      });

      it('starts a new streak, untold, at a failure long after the last (failing-streak.ts)', async () => {
        const { store } = await setUp();
        const failed = (message: string) => ({ failed: { errorClass: 'retryable' as const, message } });
        const t0 = 1_000;
        await store.recordCheck(t0, failed('before'));
        expect(await store.markSharedAlbumsFailingReported(t0, t0 + 1)).toBe(true);
        // Within the gap: the same streak.
        const near = t0 + FAILING_STREAK_GAP_MS;
        expect(await store.recordCheck(near, failed('near'))).toMatchObject({
          since: t0,
          reportedAt: t0 + 1,
        });
        // Further: a new one, its report to come.
        const far = near + FAILING_STREAK_GAP_MS + 1;
        expect(await store.recordCheck(far, failed('after'))).toEqual({
          since: far,
          lastFailedAt: far,
          errorClass: 'retryable',
          message: 'after',
        });
        // An older check is still refused, whatever the streak.
        expect(await store.recordCheck(far - 1, failed('late'))).toBeUndefined();
        expect((await store.loadLastCheck()).sharedAlbumsFailing).toMatchObject({
          since: far,
          message: 'after',
        });
      });
    });

    describe('zones', () => {
      it('reports nothing for a zone it never saved', async () => {
        const { store } = await setUp();
        expect(await store.loadZone(primary)).toBeUndefined();
      });

      it('round-trips a checkpoint byte for byte', async () => {
        const { store } = await setUp();
        const checkpoint = {
          cursor: { startRank: 400, continuationMarker: 'bWFya2Vy' },
          zoneToken: 'HwoECJGaGRgAIhYI',
          pairing: [{ recordName: 'Ä-é-日本', fields: { n: 1.5, empty: '', none: null } }],
        };
        await store.saveZone({ zone: shared, checkpoint }, 0);
        const loaded = await store.loadZone(shared);
        expect(loaded?.checkpoint).toEqual(checkpoint);
        expect(loaded?.zone).toEqual(shared);
        expect(loaded?.revision).toBe(1);
      });

      it('rejects a zone write with a stale revision as a conflict', async () => {
        const { store } = await setUp();
        await store.saveZone({ zone: primary, syncToken: 't1' }, 0);
        await store.saveZone({ zone: primary, syncToken: 't2' }, 1);
        await expect(store.saveZone({ zone: primary, syncToken: 't3' }, 1)).rejects.toBeInstanceOf(
          ConflictError,
        );
        expect((await store.loadZone(primary))?.syncToken).toBe('t2');
      });

      it('rejects creating a zone that already exists', async () => {
        const { store } = await setUp();
        await store.saveZone({ zone: primary, syncToken: 't1' }, 0);
        await expect(store.saveZone({ zone: primary, syncToken: 'other' }, 0)).rejects.toBeInstanceOf(
          ConflictError,
        );
      });

      it('finishes an enumeration in one write: token set, checkpoint gone', async () => {
        const { store, clock } = await setUp();
        await store.saveZone({ zone: primary, checkpoint: { startRank: 200 } }, 0);
        clock.advance(1000);
        const done = await store.saveZone(
          { zone: primary, syncToken: 'tok', lastFullScanAt: clock.now(), albumsWalkedAt: clock.now() },
          1,
        );
        const loaded = await store.loadZone(primary);
        expect(loaded).toEqual(done);
        expect(loaded?.checkpoint).toBeUndefined();
        expect(loaded?.syncToken).toBe('tok');
        expect(loaded?.updatedAt).toBe(clock.now());
      });

      it('refuses a checkpoint over the size limit', async () => {
        const { store } = await setUp();
        const checkpoint = { buffer: 'x'.repeat(MAX_CHECKPOINT_BYTES) };
        await expect(store.saveZone({ zone: primary, checkpoint }, 0)).rejects.toBeInstanceOf(
          InvalidInputError,
        );
      });

      it('lists every zone it holds', async () => {
        const { store } = await setUp();
        await store.saveZone({ zone: primary, syncToken: 'a' }, 0);
        await store.saveZone({ zone: shared, retired: true }, 0);
        const zones = await store.loadZones();
        expect(zones.map((z) => z.zone.zoneName).sort()).toEqual(['PrimarySync', 'SharedSync-1A2B']);
        expect(zones.find((z) => z.zone.database === 'shared')?.retired).toBe(true);
      });

      it('lets exactly one of two racing writers advance a zone', async () => {
        const { store } = await setUp();
        await store.saveZone({ zone: primary, syncToken: 't1' }, 0);
        const results = await Promise.allSettled([
          store.saveZone({ zone: primary, syncToken: 'from-a' }, 1),
          store.saveZone({ zone: primary, syncToken: 'from-b' }, 1),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(rejected?.reason).toBeInstanceOf(ConflictError);
      });
    });

    describe('the failed photos waiting for a retry (beside the zones)', () => {
      const photo = { zone: shared, assetRecordName: 'A-failed' };

      it('come with the zones in one read, and loadZones still lists zones only', async () => {
        const { store } = await setUp();
        await store.saveZone({ zone: primary, syncToken: 'a' }, 0);
        await store.noteFailedForRetry(photo, 100);

        const { zones, retries } = await store.loadZonesAndRetries();

        expect(zones.map((z) => z.zone.zoneName)).toEqual(['PrimarySync']);
        expect(retries).toEqual([{ ...photo, failedAt: 100, tries: 0 }]);
        expect((await store.loadZones()).map((z) => z.zone.zoneName)).toEqual(['PrimarySync']);
      });

      it('keep their tries through a new failure, and a try never brings one back', async () => {
        const { store } = await setUp();
        await store.noteFailedForRetry(photo, 100);
        await store.recordRetryTried({ ...photo, failedAt: 100, tries: 0 }, 1, 150);
        await store.noteFailedForRetry(photo, 200);
        expect((await store.loadZonesAndRetries()).retries).toEqual([
          { ...photo, failedAt: 200, tries: 1, lastTriedAt: 150 },
        ]);

        // Read at failedAt 100: the failure at 200 keeps it listed.
        await store.dropRetry({ ...photo, failedAt: 100, tries: 1 });
        expect((await store.loadZonesAndRetries()).retries).toHaveLength(1);
        await store.dropRetry({ ...photo, failedAt: 200, tries: 1 });
        expect((await store.loadZonesAndRetries()).retries).toEqual([]);
        await store.recordRetryTried({ ...photo, failedAt: 200, tries: 1 }, 2, 300);
        expect((await store.loadZonesAndRetries()).retries).toEqual([]);
      });

      it('say whether a photo was newly listed, and enter with the tries asked for only then', async () => {
        const { store } = await setUp();
        expect(await store.noteFailedForRetry(photo, 100, { tries: 8 })).toBe(true);
        expect(await store.noteFailedForRetry(photo, 200, { tries: 0 })).toBe(false);
        expect(await store.noteFailedForRetry(photo, 300)).toBe(false);
        expect((await store.loadZonesAndRetries()).retries).toEqual([{ ...photo, failedAt: 300, tries: 8 }]);
        await store.dropRetry({ ...photo, failedAt: 300, tries: 8 });
        expect(await store.noteFailedForRetry(photo, 400)).toBe(true);
        expect((await store.loadZonesAndRetries()).retries).toEqual([{ ...photo, failedAt: 400, tries: 0 }]);
      });
    });

    describe('the settings the archive was synced with', () => {
      it('are unknown before the first record, then replaced with compare-and-set, optional fields kept or dropped', async () => {
        const { store, clock } = await setUp();
        expect(await store.loadArchiveSettings()).toBeUndefined();
        const first = { versionPolicy: 'original', xmpSidecars: false, deleteMode: 'keep' as const };
        expect(await store.saveArchiveSettings(first, 0)).toEqual({
          ...first,
          updatedAt: clock.now(),
          revision: 1,
        });
        await expect(store.saveArchiveSettings(first, 0)).rejects.toBeInstanceOf(ConflictError);
        const widened = {
          versionPolicy: 'original,live,alternative,adjusted',
          xmpSidecars: true,
          deleteMode: 'mirror' as const,
          versionsBehind: { policy: 'original', since: 5 },
          sidecarsOnSince: 6,
          mirrorSince: 7,
        };
        await store.saveArchiveSettings(widened, 1);
        expect(await store.loadArchiveSettings()).toEqual({
          ...widened,
          updatedAt: clock.now(),
          revision: 2,
        });
        await store.saveArchiveSettings(first, 2);
        expect(await store.loadArchiveSettings()).toEqual({ ...first, updatedAt: clock.now(), revision: 3 });
      });
    });

    describe('database tokens', () => {
      it('stores a database token with compare-and-set', async () => {
        const { store } = await setUp();
        expect(await store.loadDatabaseState('private')).toBeUndefined();
        await store.saveDatabaseToken('private', 'db1', 0);
        await expect(store.saveDatabaseToken('private', 'db2', 0)).rejects.toBeInstanceOf(ConflictError);
        await store.saveDatabaseToken('private', 'db2', 1);
        expect(await store.loadDatabaseState('private')).toMatchObject({ syncToken: 'db2', revision: 2 });
        expect(await store.loadDatabaseState('shared')).toBeUndefined();
      });
    });

    describe('the checkpoint of a resumable upload (on the key claim, fenced by its lease)', () => {
      const checkpoint = {
        uploadId: 'upload-1',
        contentLength: 12_000_000,
        bodyId: 'AQID',
        partSize: 5_242_880,
        parts: 2,
        bytes: 10_485_760,
        md5State: 'bWQ1',
        sha256State: 'c2hhMjU2',
      };
      const key = 'library/2026/12/IMG_0001.MOV';

      it("is kept while the lease is its saver's, read back whole, and dropped", async () => {
        const { store } = await setUp();
        const claim = await store.claimTransfer(key, 'object-1', 'worker-a', 60_000);
        if (!claim.claimed || !('lease' in claim)) throw new Error('expected the lease');
        expect(await store.getTransferCheckpoint(key)).toBeUndefined();
        expect(await store.saveTransferCheckpoint(claim.lease, checkpoint)).toBe(true);
        expect(await store.getTransferCheckpoint(key)).toEqual(checkpoint);
        // A release ends the lease, not the checkpoint: the next delivery goes on from it.
        await store.releaseTransfer(claim.lease);
        expect(await store.getTransferCheckpoint(key)).toEqual(checkpoint);
        await store.deleteTransferCheckpoint(key);
        expect(await store.getTransferCheckpoint(key)).toBeUndefined();
        await store.deleteTransferCheckpoint(key);
        // The one saved before the completion: every part, and the ETag the completed object gets.
        const completing = { ...checkpoint, parts: 3, bytes: 12_000_000, etag: 'a'.repeat(32).concat('-3') };
        const again = await store.claimTransfer(key, 'object-1', 'worker-a', 60_000);
        if (!again.claimed || !('lease' in again)) throw new Error('expected the lease');
        expect(await store.saveTransferCheckpoint(again.lease, completing)).toBe(true);
        expect(await store.getTransferCheckpoint(key)).toEqual(completing);
      });

      it('is refused to a worker whose lease another took over', async () => {
        const { clock, store } = await setUp();
        const first = await store.claimTransfer(key, 'object-1', 'worker-a', 60_000);
        if (!first.claimed || !('lease' in first)) throw new Error('expected the lease');
        clock.advance(61_000);
        const second = await store.claimTransfer(key, 'object-1', 'worker-b', 60_000);
        if (!second.claimed || !('lease' in second)) throw new Error('expected the lease');
        expect(await store.saveTransferCheckpoint(first.lease, checkpoint)).toBe(false);
        expect(await store.getTransferCheckpoint(key)).toBeUndefined();
        expect(await store.saveTransferCheckpoint(second.lease, { ...checkpoint, parts: 1 })).toBe(true);
        expect((await store.getTransferCheckpoint(key))?.parts).toBe(1);
      });
    });

    describe('the lock', () => {
      it('grants a free lock', async () => {
        const { store, clock } = await setUp();
        const attempt = await store.acquireLock('detect', 'run-a', 60_000);
        expect(attempt).toEqual({
          acquired: true,
          lease: { name: 'detect', owner: 'run-a', expiresAt: clock.now() + 60_000 },
        });
      });

      it('refuses a held lock and names its holder', async () => {
        const { store, clock } = await setUp();
        await store.acquireLock('detect', 'run-a', 60_000);
        const attempt = await store.acquireLock('detect', 'run-b', 60_000);
        expect(attempt).toEqual({ acquired: false, heldBy: 'run-a', expiresAt: clock.now() + 60_000 });
      });

      it('grants an expired lock to another owner', async () => {
        const { store, clock } = await setUp();
        await store.acquireLock('detect', 'run-a', 60_000);
        clock.advance(60_001);
        const attempt = await store.acquireLock('detect', 'run-b', 60_000);
        expect(attempt.acquired).toBe(true);
      });

      it('releases only its own lock', async () => {
        const { store, clock } = await setUp();
        const a = await store.acquireLock('detect', 'run-a', 1_000);
        if (!a.acquired) throw new Error('expected the lock');
        clock.advance(2_000);
        const b = await store.acquireLock('detect', 'run-b', 60_000);
        if (!b.acquired) throw new Error('expected the lock');
        expect(await store.releaseLock(a.lease)).toBe(false);
        expect((await store.acquireLock('detect', 'run-c', 60_000)).acquired).toBe(false);
        expect(await store.releaseLock(b.lease)).toBe(true);
        expect((await store.acquireLock('detect', 'run-c', 60_000)).acquired).toBe(true);
      });

      it('gives one lock to exactly one of two racing runs', async () => {
        const { store } = await setUp();
        const attempts = await Promise.all([
          store.acquireLock('detect', 'run-a', 60_000),
          store.acquireLock('detect', 'run-b', 60_000),
        ]);
        expect(attempts.filter((a) => a.acquired)).toHaveLength(1);
      });
    });

    describe('the manifest', () => {
      it('writes a new entry and reads it back', async () => {
        const { store } = await setUp();
        const saved = await store.putEntry(entry('A1'), 0);
        expect(saved.revision).toBe(1);
        expect(await store.getEntry({ zone: primary, assetRecordName: 'A1' })).toEqual(saved);
        expect(await store.getEntry({ zone: shared, assetRecordName: 'A1' })).toBeUndefined();
      });

      it('turns a lost manifest race into a conflict, never a silent overwrite', async () => {
        const { store } = await setUp();
        await store.putEntry(entry('A1'), 0);
        await store.putEntry(entry('A1', { status: 'trashed' }), 1);
        await expect(store.putEntry(entry('A1', { status: 'failed' }), 1)).rejects.toBeInstanceOf(
          ConflictError,
        );
        await expect(store.putEntry(entry('A1'), 0)).rejects.toBeInstanceOf(ConflictError);
        expect((await store.getEntry({ zone: primary, assetRecordName: 'A1' }))?.status).toBe('trashed');
      });

      it('keeps failures and deletions', async () => {
        const { store } = await setUp();
        const input = entry('A2', {
          zone: shared,
          status: 'failed',
          failure: { reason: 'ContentLengthMismatchError', at: 5, attempts: 2 },
          deletions: [{ kind: 'adjusted', key: 'k/old.JPG', deletedAt: 7, reason: 'superseded' }],
        });
        await store.putEntry(input, 0);
        expect(await store.getEntry({ zone: shared, assetRecordName: 'A2' })).toMatchObject(input);
      });

      it("keeps the issuedAt of a failure's message (a failure recorded without one reads as before)", async () => {
        const { store } = await setUp();
        const failure = { reason: 'InvalidInputError', at: 5, attempts: 1, issuedAt: 1_750_000_900_000 };
        await store.putEntry(entry('A4', { status: 'failed', failure }), 0);
        expect((await store.getEntry({ zone: primary, assetRecordName: 'A4' }))?.failure).toEqual(failure);
      });

      it('keeps the order of the state an entry holds (stateAt), read one by one, in a batch and walked', async () => {
        const { store } = await setUp();
        const ref = { zone: primary, assetRecordName: 'A3' };
        await store.putEntry(entry('A3', { stateAt: 1_750_000_900_000 }), 0);
        const walked: (number | undefined)[] = [];
        for await (const e of store.entries()) walked.push(e.stateAt);
        expect({
          one: (await store.getEntry(ref))?.stateAt,
          batch: [...(await store.getEntries([ref])).values()].map((e) => e.stateAt),
          walked,
        }).toEqual({ one: 1_750_000_900_000, batch: [1_750_000_900_000], walked: [1_750_000_900_000] });
      });

      it('keeps an edit marked no longer current', async () => {
        const { store } = await setUp();
        const [original] = entry('A3').versions;
        if (original === undefined) throw new Error('the entry has no original');
        const edit = {
          ...original,
          kind: 'adjusted' as const,
          key: 'k/IMG_A3-edited.JPG',
          fileChecksum: 'E1',
        };
        const input = entry('A3', { versions: [original, { ...edit, current: false }] });
        await store.putEntry(input, 0);
        expect((await store.getEntry({ zone: primary, assetRecordName: 'A3' }))?.versions).toEqual(
          input.versions,
        );
      });

      it('iterates every entry', async () => {
        const { store } = await setUp();
        const names = Array.from({ length: 40 }, (_, i) => `R${i}`);
        for (const name of names) await store.putEntry(entry(name), 0);
        const seen: string[] = [];
        for await (const e of store.entries()) seen.push(e.assetRecordName);
        expect(seen.sort()).toEqual([...names].sort());
      });
    });

    describe('enumeration stamps (reconciling a full enumeration)', () => {
      /** Every unseen asset of `zone` for `generation`, page by page; also counts the pages. */
      const unseen = async (store: SyncStateStore, zone: ZoneRef, generation: string) => {
        const names: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.unseenAssets(zone, generation, cursor);
          pages += 1;
          for (const asset of page.assets) names.push(asset.assetRecordName);
          expect(cursor === undefined || page.cursor !== cursor).toBe(true);
          cursor = page.cursor;
        } while (cursor !== undefined && pages < 1000);
        return { names: names.sort(), pages };
      };

      it("lists the zone's unpurged entries the generation did not stamp, and only those", async () => {
        const { store } = await setUp();
        const names = Array.from({ length: 130 }, (_, i) => `S${String(i).padStart(3, '0')}`);
        for (const name of names) await store.putEntry(entry(name), 0);
        await store.putEntry(entry('GONE', { status: 'purged' }), 0);
        await store.putEntry(entry('OTHER', { zone: shared }), 0);
        const stamped = names.filter((_, i) => i % 3 !== 0);
        // An older enumeration saw everything; the current one (in two pages) two thirds.
        await store.markSeen(primary, 'g1', names);
        await store.markSeen(primary, 'g2', stamped.slice(0, 60));
        await store.markSeen(primary, 'g2', stamped.slice(60));

        const result = await unseen(store, primary, 'g2');
        expect(result.names).toEqual(names.filter((_, i) => i % 3 === 0));
        expect((await unseen(store, shared, 'g2')).names).toEqual(['OTHER']);
        // A later stamp replaces an earlier one.
        expect((await unseen(store, primary, 'g1')).names).toEqual([...stamped].sort());
      });

      it('answers a zone with no entries with empty pages that end', async () => {
        const { store } = await setUp();
        await store.putEntry(entry('A1'), 0);
        expect((await unseen(store, shared, 'g1')).names).toEqual([]);
      });

      it('resumes from a cursor handed back later, as a checkpoint would', async () => {
        const { store } = await setUp();
        const names = Array.from({ length: 40 }, (_, i) => `C${i}`);
        for (const name of names) await store.putEntry(entry(name), 0);
        const first = await store.unseenAssets(primary, 'g1');
        const rest = { names: [] as string[] };
        let cursor = first.cursor;
        while (cursor !== undefined) {
          const page = await store.unseenAssets(primary, 'g1', JSON.parse(JSON.stringify(cursor)));
          rest.names.push(...page.assets.map((a) => a.assetRecordName));
          cursor = page.cursor;
        }
        const all = [...first.assets.map((a) => a.assetRecordName), ...rest.names].sort();
        expect(all).toEqual([...names].sort());
        expect(first.assets[0]?.masterRecordName).toBe(`M-${first.assets[0]?.assetRecordName}`);
      });
    });

    describe('key claims', () => {
      it('lets the same owner claim a key twice', async () => {
        const { store } = await setUp();
        expect(await store.claimKey('2024/IMG_1.JPG', 'M1/original')).toEqual({ claimed: true, fresh: true });
        // Not fresh the second time: an object may be stored at the key by then.
        expect(await store.claimKey('2024/IMG_1.JPG', 'M1/original')).toEqual({
          claimed: true,
          fresh: false,
        });
        expect(await store.claimKey('2024/img_1.jpg', 'M2/original')).toEqual({
          claimed: false,
          owner: 'M1/original',
        });
      });

      it('refuses a key that differs only in case to another owner', async () => {
        const { store } = await setUp();
        await store.claimKey('2024/IMG_1.JPG', 'M1/original');
        expect(await store.claimKey('2024/img_1.jpg', 'M2/original')).toEqual({
          claimed: false,
          owner: 'M1/original',
        });
      });

      it('refuses a key that differs only in unicode normalisation or ß', async () => {
        const { store } = await setUp();
        await store.claimKey('Café/Straße.JPG', 'M1/original');
        const nfd = 'Cafe\u0301/STRASSE.jpg';
        expect(await store.claimKey(nfd, 'M2/original')).toEqual({ claimed: false, owner: 'M1/original' });
      });

      it('releases a key only for its owner', async () => {
        const { store } = await setUp();
        await store.claimKey('a/B.jpg', 'M1');
        expect(await store.releaseKey('a/b.jpg', 'M2')).toBe(false);
        expect(await store.releaseKey('a/b.jpg', 'M1')).toBe(true);
        expect(await store.claimKey('a/b.JPG', 'M2')).toEqual({ claimed: true, fresh: true });
      });

      it('gives a contested key to exactly one of two racing owners', async () => {
        const { store } = await setUp();
        const outcomes = await Promise.all([
          store.claimKey('x/IMG.JPG', 'M1'),
          store.claimKey('x/img.jpg', 'M2'),
        ]);
        expect(outcomes.filter((o) => o.claimed)).toHaveLength(1);
      });
    });

    describe('key claims with the transfer lease', () => {
      it('takes a fresh claim and its lease in one call, and says a later claim is not fresh', async () => {
        const { store } = await setUp();
        const first = await store.claimTransfer('2024/IMG_1.JPG', 'M1/original', 'worker-a', 60_000);
        expect(first).toMatchObject({ claimed: true, fresh: true, lease: { owner: 'worker-a' } });
        await store.releaseTransfer({ name: '2024/IMG_1.JPG', owner: 'worker-a', expiresAt: 0 });
        const again = await store.claimTransfer('2024/img_1.jpg', 'M1/original', 'worker-b', 60_000);
        expect(again).toMatchObject({ claimed: true, fresh: false, lease: { owner: 'worker-b' } });
      });

      it('reports the live lease of another holder, keeps the claim, and hands the lease over once it expired', async () => {
        const { store, clock } = await setUp();
        await store.claimTransfer('a/B.jpg', 'M1', 'worker-a', 60_000);
        expect(await store.claimTransfer('a/B.jpg', 'M1', 'worker-b', 60_000)).toEqual({
          claimed: true,
          heldBy: 'worker-a',
          expiresAt: clock.now() + 60_000,
        });
        clock.advance(60_001);
        expect(await store.claimTransfer('a/B.jpg', 'M1', 'worker-b', 60_000)).toMatchObject({
          claimed: true,
          fresh: false,
          lease: { owner: 'worker-b' },
        });
      });

      it('renews the lease for its holder and refuses the key to another object', async () => {
        const { store, clock } = await setUp();
        await store.claimTransfer('a/B.jpg', 'M1', 'worker-a', 60_000);
        clock.advance(30_000);
        expect(await store.claimTransfer('a/B.jpg', 'M1', 'worker-a', 60_000)).toMatchObject({
          claimed: true,
          lease: { owner: 'worker-a', expiresAt: clock.now() + 60_000 },
        });
        expect(await store.claimTransfer('a/b.JPG', 'M2', 'worker-c', 60_000)).toEqual({
          claimed: false,
          owner: 'M1',
        });
        expect(await store.claimKey('a/b.jpg', 'M2')).toEqual({ claimed: false, owner: 'M1' });
      });

      it('releases a lease only for its holder', async () => {
        const { store } = await setUp();
        await store.claimTransfer('a/B.jpg', 'M1', 'worker-a', 60_000);
        expect(await store.releaseTransfer({ name: 'a/B.jpg', owner: 'worker-b', expiresAt: 0 })).toBe(false);
        expect(await store.claimTransfer('a/B.jpg', 'M1', 'worker-b', 60_000)).toMatchObject({
          heldBy: 'worker-a',
        });
        expect(await store.releaseTransfer({ name: 'a/B.jpg', owner: 'worker-a', expiresAt: 0 })).toBe(true);
        expect(await store.claimTransfer('a/B.jpg', 'M1', 'worker-b', 60_000)).toMatchObject({
          lease: { owner: 'worker-b' },
        });
      });

      it('gives the lease of a new key to exactly one of two racing workers', async () => {
        const { store } = await setUp();
        const outcomes = await Promise.all([
          store.claimTransfer('x/IMG.JPG', 'M1', 'worker-a', 60_000),
          store.claimTransfer('x/img.jpg', 'M1', 'worker-b', 60_000),
        ]);
        expect(outcomes.filter((o) => 'lease' in o)).toHaveLength(1);
        expect(outcomes.filter((o) => 'heldBy' in o)).toHaveLength(1);
      });
    });

    describe('all-or-nothing batches (a work message’s entries and fresh claims)', () => {
      it('writes every entry of a batch when each revision holds, each one revision on', async () => {
        const { store } = await setUp();
        const before = await store.putEntry(entry('A1'), 0);

        const outcome = await store.putEntries([
          { entry: entry('A1', { status: 'trashed' }), expectedRevision: before.revision },
          { entry: entry('A2'), expectedRevision: 0 },
        ]);

        expect(outcome).toMatchObject({
          written: [
            { assetRecordName: 'A1', status: 'trashed', revision: 2 },
            { assetRecordName: 'A2', revision: 1 },
          ],
        });
        const written = 'written' in outcome ? outcome.written : [];
        expect(await store.getEntry({ zone: primary, assetRecordName: 'A1' })).toEqual(written[0]);
        expect(await store.getEntry({ zone: primary, assetRecordName: 'A2' })).toEqual(written[1]);
      });

      it('writes no entry of a batch in which one revision moved, and names that one', async () => {
        const { store } = await setUp();
        await store.putEntry(entry('A2'), 0);

        const outcome = await store.putEntries([
          { entry: entry('A1'), expectedRevision: 0 },
          { entry: entry('A2', { status: 'failed' }), expectedRevision: 0 },
          { entry: entry('A3'), expectedRevision: 0 },
        ]);

        expect(outcome).toEqual({ refused: [1] });
        expect(await store.getEntry({ zone: primary, assetRecordName: 'A1' })).toBeUndefined();
        expect(await store.getEntry({ zone: primary, assetRecordName: 'A3' })).toBeUndefined();
        expect((await store.getEntry({ zone: primary, assetRecordName: 'A2' }))?.status).toBe('archived');
      });

      it('claims free keys fresh with their leases and counts, as claimTransfer would', async () => {
        const { store, clock } = await setUp();
        const outcome = await store.claimFreshKeys([
          { key: 'b/IMG_1.JPG', owner: 'M1/original', holder: 'worker-a', leaseMs: 60_000, size: 10 },
          { key: 'b/IMG_2.JPG', owner: 'M2/original', holder: 'worker-b', leaseMs: 60_000, size: 20 },
        ]);

        expect(outcome).toMatchObject({
          written: [
            { claimed: true, fresh: true, lease: { name: 'b/IMG_1.JPG', owner: 'worker-a' } },
            { claimed: true, fresh: true, lease: { owner: 'worker-b', expiresAt: clock.now() + 60_000 } },
          ],
        });
        // The lease is live for another holder, renewable by its own; the key is the owner's.
        expect(await store.claimTransfer('b/img_1.jpg', 'M1/original', 'worker-c', 60_000)).toEqual({
          claimed: true,
          heldBy: 'worker-a',
          expiresAt: clock.now() + 60_000,
        });
        expect(await store.claimTransfer('b/IMG_2.JPG', 'M2/original', 'worker-b', 60_000)).toMatchObject({
          lease: { owner: 'worker-b' },
        });
        expect(await store.claimKey('b/IMG_1.JPG', 'M9/original')).toEqual({
          claimed: false,
          owner: 'M1/original',
        });
        // The counts they started count each object once.
        const written = 'written' in outcome ? outcome.written : [];
        await store.countObjects([
          {
            key: 'b/IMG_1.JPG',
            size: 10,
            ...(written[0]?.count === undefined ? {} : { count: written[0].count }),
          },
          {
            key: 'b/IMG_2.JPG',
            size: 20,
            ...(written[1]?.count === undefined ? {} : { count: written[1].count }),
          },
        ]);
        await store.countObjects([{ key: 'b/IMG_1.JPG', size: 10 }]);
        await store.flush();
        expect(await store.getCounters()).toEqual({ objects: 2, bytes: 30 });
      });

      it('claims no key of a batch in which one is claimed already (whoever holds it), and names that one', async () => {
        const { store } = await setUp();
        await store.claimTransfer('c/IMG_2.JPG', 'M2/original', 'worker-z', 60_000);

        const outcome = await store.claimFreshKeys([
          { key: 'c/IMG_1.JPG', owner: 'M1/original', holder: 'worker-a', leaseMs: 60_000 },
          { key: 'c/img_2.jpg', owner: 'M2/original', holder: 'worker-a', leaseMs: 60_000 },
        ]);

        expect(outcome).toEqual({ refused: [1] });
        expect(await store.claimTransfer('c/IMG_1.JPG', 'M1/original', 'worker-b', 60_000)).toMatchObject({
          fresh: true,
        });
      });

      it('records the key of each fresh claim’s object in the same write, once per owner, and none when refused', async () => {
        const { store } = await setUp();
        await store.claimKey('k/IMG_9.JPG', 'M9/original');

        const refused = await store.claimFreshKeys([
          { key: 'k/IMG_3.JPG', owner: 'M3/original', holder: 'worker-a', leaseMs: 60_000 },
          { key: 'k/img_9.jpg', owner: 'M4/original', holder: 'worker-a', leaseMs: 60_000 },
        ]);
        const written = await store.claimFreshKeys([
          { key: 'k/IMG_1.JPG', owner: 'M1/original', holder: 'worker-a', leaseMs: 60_000 },
          { key: 'k/IMG_1_x.JPG', owner: 'M1/original', holder: 'worker-a', leaseMs: 60_000 },
          { key: 'k/IMG_2.MOV', owner: 'M2/liveVideo', holder: 'worker-a', leaseMs: 60_000 },
        ]);

        expect(refused).toEqual({ refused: [1] });
        expect(written).toHaveProperty('written');
        const read = await store.getEntriesAndObjectKeys(
          [],
          ['M1/original', 'M2/liveVideo', 'M3/original', 'M4/original'],
        );
        expect(Object.fromEntries(read.objectKeys)).toEqual({
          'M1/original': 'k/IMG_1.JPG',
          'M2/liveVideo': 'k/IMG_2.MOV',
        });
      });

      it('reads entries and recorded object keys in one call; forgets a key only while it is still the one recorded', async () => {
        const { store } = await setUp();
        const stored = await store.putEntry(entry('A1'), 0);
        await store.putObjectKey('M1/original', 'o/IMG_1.JPG');
        await store.putObjectKey('M2/original', 'o/IMG_2.JPG');
        await store.putObjectKey('M2/original', 'o/IMG_2b.JPG'); // replaces

        const read = await store.getEntriesAndObjectKeys(
          [
            { zone: primary, assetRecordName: 'A1' },
            { zone: primary, assetRecordName: 'A2' },
          ],
          ['M1/original', 'M2/original', 'M3/original', 'M1/original'],
        );
        expect([...read.entries.values()]).toEqual([stored]);
        expect(Object.fromEntries(read.objectKeys)).toEqual({
          'M1/original': 'o/IMG_1.JPG',
          'M2/original': 'o/IMG_2b.JPG',
        });

        await store.forgetObjectKey('M2/original', 'o/IMG_2.JPG'); // not the one recorded: kept
        await store.forgetObjectKey('M1/original', 'o/IMG_1.JPG');
        await store.forgetObjectKey('M3/original', 'o/IMG_3.JPG'); // none: no error
        const after = await store.getEntriesAndObjectKeys([], ['M1/original', 'M2/original']);
        expect(Object.fromEntries(after.objectKeys)).toEqual({ 'M2/original': 'o/IMG_2b.JPG' });
      });

      it('records a missing object key only while none is recorded and the key’s claim is the object’s own', async () => {
        const { store } = await setUp();
        await store.claimKey('o/IMG_1.JPG', 'M1/original');
        await store.claimKey('o/IMG_2.JPG', 'M2/original');
        await store.putObjectKey('M2/original', 'o/IMG_2b.JPG'); // a worker recorded it meanwhile
        await store.claimKey('o/IMG_3.JPG', 'twin/original'); // another object's key

        const written = [
          await store.recordMissingObjectKey('M1/original', 'O/img_1.jpg'),
          await store.recordMissingObjectKey('M1/original', 'o/IMG_1.JPG'), // again: already recorded
          await store.recordMissingObjectKey('M2/original', 'o/IMG_2.JPG'),
          await store.recordMissingObjectKey('M3/original', 'o/IMG_3.JPG'),
          await store.recordMissingObjectKey('M4/original', 'o/IMG_4.JPG'), // nobody claims it (purged)
        ];

        expect(written).toEqual([true, false, false, false, false]);
        const read = await store.getEntriesAndObjectKeys(
          [],
          ['M1/original', 'M2/original', 'M3/original', 'M4/original'],
        );
        expect(Object.fromEntries(read.objectKeys)).toEqual({
          'M1/original': 'O/img_1.jpg',
          'M2/original': 'o/IMG_2b.JPG',
        });
      });

      it('refuses a batch that writes one item twice (InvalidInputError, or DynamoDB’s ValidationException)', async () => {
        const { store } = await setUp();
        await expect(
          store.claimFreshKeys([
            { key: 'd/IMG_1.JPG', owner: 'M1', holder: 'worker-a', leaseMs: 60_000 },
            { key: 'd/img_1.jpg', owner: 'M2', holder: 'worker-a', leaseMs: 60_000 },
          ]),
        ).rejects.toThrow();
        await expect(
          store.putEntries([
            { entry: entry('A1'), expectedRevision: 0 },
            { entry: entry('A1'), expectedRevision: 0 },
          ]),
        ).rejects.toThrow();
      });
    });

    describe('batched reads and writes', () => {
      it('reads several entries at once, keyed by zone and asset, leaving out those it has none of', async () => {
        const { store } = await setUp();
        const stored = await store.putEntry(
          {
            zone: primary,
            assetRecordName: 'A1',
            masterRecordName: 'M1',
            assetChangeTag: 't',
            status: 'archived',
            flags: { isFavorite: false, isHidden: false, isDeleted: false },
            albums: [],
            versions: [],
            deletions: [],
          },
          0,
        );
        const found = await store.getEntries([
          { zone: primary, assetRecordName: 'A1' },
          { zone: shared, assetRecordName: 'A1' },
          { zone: primary, assetRecordName: 'A2' },
          { zone: primary, assetRecordName: 'A1' },
        ]);
        expect([...found.keys()]).toEqual([`${zoneId(primary)}#A1`]);
        expect(found.get(`${zoneId(primary)}#A1`)).toEqual(stored);
      });

      it('records several master users at once, idempotently', async () => {
        const { store } = await setUp();
        const mine = { zone: primary, assetRecordName: 'A1' };
        const sharedCopy = { zone: shared, assetRecordName: 'S1' };
        const users = [
          { masterRecordName: 'MASTER-1', user: mine },
          { masterRecordName: 'MASTER-1', user: sharedCopy },
          { masterRecordName: 'MASTER-2', user: mine },
        ];
        await store.addMasterUsers(users);
        await store.addMasterUsers(users);
        expect(await store.masterUsers('MASTER-1')).toEqual(expect.arrayContaining([mine, sharedCopy]));
        expect(await store.masterUsers('MASTER-1')).toHaveLength(2);
        expect(await store.masterUsers('MASTER-2')).toEqual([mine]);
      });
    });

    describe('master users', () => {
      it('lists every asset that uses a master, once each, across zones', async () => {
        const { store } = await setUp();
        const mine = { zone: primary, assetRecordName: 'A1' };
        const sharedCopy = { zone: shared, assetRecordName: 'S1' };
        await store.addMasterUser('MASTER-1', mine);
        await store.addMasterUser('MASTER-1', mine);
        await store.addMasterUser('MASTER-1', sharedCopy);
        const users = await store.masterUsers('MASTER-1');
        expect(users).toHaveLength(2);
        expect(users).toEqual(expect.arrayContaining([mine, sharedCopy]));
        expect(await store.masterUsers('MASTER-2')).toEqual([]);
      });

      it('forgets a user, and forgetting twice is harmless', async () => {
        const { store } = await setUp();
        const mine = { zone: primary, assetRecordName: 'A1' };
        const duplicate = { zone: primary, assetRecordName: 'A2' };
        await store.addMasterUser('MASTER-1', mine);
        await store.addMasterUser('MASTER-1', duplicate);
        await store.removeMasterUser('MASTER-1', mine);
        await store.removeMasterUser('MASTER-1', mine);
        expect(await store.masterUsers('MASTER-1')).toEqual([duplicate]);
      });

      it('keeps a master name apart from its case twin', async () => {
        const { store } = await setUp();
        await store.addMasterUser('AbC+', { zone: primary, assetRecordName: 'A1' });
        expect(await store.masterUsers('abc+')).toEqual([]);
      });
    });

    describe('runs', () => {
      it('lists runs newest first, up to the limit', async () => {
        const { store } = await setUp();
        await store.startRun('run-b', 'detect', 2_000);
        await store.startRun('run-c', 'detect', 10_000);
        await store.startRun('run-a', 'detect', 1_000);
        const runs = await store.listRuns(2);
        expect(runs.map((r) => r.runId)).toEqual(['run-c', 'run-b']);
        expect(runs[0]).toMatchObject({ outcome: 'running', kind: 'detect', counts: {}, failures: [] });
      });

      it('refuses to start the same run twice', async () => {
        const { store } = await setUp();
        await store.startRun('run-a', 'detect', 1_000);
        await expect(store.startRun('run-a', 'detect', 1_000)).rejects.toBeInstanceOf(ConflictError);
      });

      it('adds counts from concurrent workers without losing any', async () => {
        const { store } = await setUp();
        const run = await store.startRun('run-a', 'download', 1_000);
        await Promise.all(
          Array.from({ length: 8 }, () =>
            store.addRunProgress(run, {
              counts: { assetsArchived: 1, bytesArchived: 1000 },
              appleRequests: { 'changes/zone': 2, cdn: 1 },
            }),
          ),
        );
        const [record] = await store.listRuns(1);
        expect(record?.counts).toEqual({ assetsArchived: 8, bytesArchived: 8000 });
        expect(record?.appleRequests).toEqual({ 'changes/zone': 16, cdn: 8 });
      });

      it('keeps only the first failures of a run', async () => {
        const { store } = await setUp();
        const run = await store.startRun('run-a', 'download', 1_000);
        for (let i = 0; i < MAX_RUN_FAILURES + 3; i += 1) {
          await store.recordRunFailure(run, { subject: `A${i}`, reason: 'RateLimitedError' });
        }
        const [record] = await store.listRuns(1);
        expect(record?.failures).toHaveLength(MAX_RUN_FAILURES);
        expect(record?.failures[0]).toEqual({ subject: 'A0', reason: 'RateLimitedError' });
      });

      it('records how a run ended', async () => {
        const { store } = await setUp();
        const run = await store.startRun('run-a', 'detect', 1_000);
        await store.finishRun(run, 'reauthRequired', 5_000, 'run icloud-s3 login');
        const [record] = await store.listRuns(1);
        expect(record).toMatchObject({
          outcome: 'reauthRequired',
          endedAt: 5_000,
          message: 'run icloud-s3 login',
        });
      });

      it('refuses progress for a run that never started', async () => {
        const { store } = await setUp();
        const ghost = { runId: 'ghost', startedAt: 1 };
        await expect(store.addRunProgress(ghost, { counts: { x: 1 } })).rejects.toBeInstanceOf(ConflictError);
        await expect(store.finishRun(ghost, 'failed', 2)).rejects.toBeInstanceOf(ConflictError);
        await expect(store.recordRunFailure(ghost, { subject: 's', reason: 'r' })).rejects.toBeInstanceOf(
          ConflictError,
        );
      });
    });

    describe('archive counters', () => {
      it('accumulates and resets the archive totals', async () => {
        const { store } = await setUp();
        expect(await store.getCounters()).toEqual({ objects: 0, bytes: 0 });
        await Promise.all([
          store.adjustCounters({ objects: 1, bytes: 100 }),
          store.adjustCounters({ objects: 2 }),
        ]);
        expect(await store.adjustCounters({ objects: -1, bytes: -40 })).toEqual({ objects: 2, bytes: 60 });
        expect(await store.getCounters()).toEqual({ objects: 2, bytes: 60 });
      });

      it('counts an object once however often and however concurrently it is counted', async () => {
        const { store } = await setUp();
        await store.countObject('2024/01/IMG_1.HEIC', 100);
        await Promise.all([
          store.countObject('2024/01/IMG_1.HEIC', 100),
          store.countObject('2024/01/img_1.heic', 100),
          store.countObject('2024/01/IMG_2.HEIC', 50),
          store.countObject('2024/01/IMG_2.HEIC', 50),
        ]);
        expect(await store.getCounters()).toEqual({ objects: 2, bytes: 150 });
      });

      it('counts a message’s objects once, with their claims’ counts, repeated or not, and none whose key nobody claims', async () => {
        const { store } = await setUp();
        const claim = async (key: string, size: number) => {
          const made = await store.claimTransfer(key, `${key}/original`, 'worker-a', 60_000, size);
          return { key, size, ...('lease' in made && made.count !== undefined ? { count: made.count } : {}) };
        };
        const objects = [await claim('m/1.jpg', 10), await claim('m/2.jpg', 20), await claim('m/3.jpg', 30)];
        await store.countObject('m/1.jpg', 10, objects[0]?.count);

        await store.countObjects(objects);
        await store.countObjects([
          ...objects.map(({ key, size }) => ({ key, size })),
          { key: 'gone.jpg', size: 5 },
        ]);
        await store.flush();
        await store.countObjects(objects.map(({ key, size }) => ({ key, size })));

        expect(await store.getCounters()).toEqual({ objects: 3, bytes: 60 });
      });

      it('counts a message’s objects once when their claimer and adopters count them at once, batched, one by one and flushing', async () => {
        const { store } = await setUp();
        const objects: { key: string; size: number; count?: string }[] = [];
        for (let i = 0; i < 30; i++) {
          const key = `race/${i}.jpg`;
          const made = await store.claimTransfer(key, `R${i}/original`, 'worker-a', 60_000, 10);
          objects.push({
            key,
            size: 10,
            ...('lease' in made && made.count !== undefined ? { count: made.count } : {}),
          });
        }

        await Promise.all([
          store.countObjects(objects),
          store.countObjects(objects.map(({ key, size }) => ({ key, size }))),
          store.flush(),
          ...objects.slice(0, 5).map(({ key, size }) => store.countObject(key, size)),
          store.countObjects(objects),
        ]);
        await store.flush();
        await store.countObjects(objects.map(({ key, size }) => ({ key, size })));

        expect(await store.getCounters()).toEqual({ objects: 30, bytes: 300 });
      });

      it('uncounts an object once, ignores one never counted, and counts it again when it returns', async () => {
        const { store } = await setUp();
        await store.countObject('a.jpg', 10);
        await Promise.all([store.uncountObject('a.jpg'), store.uncountObject('a.jpg')]);
        await store.uncountObject('never.jpg');
        expect(await store.getCounters()).toEqual({ objects: 0, bytes: 0 });
        await store.countObject('a.jpg', 12);
        expect(await store.getCounters()).toEqual({ objects: 1, bytes: 12 });
      });

      it('uncounts an object counted through its claim once when two purges meet, flushing, and counts it again when it returns', async () => {
        const { store } = await setUp();
        const made = await store.claimTransfer('b.jpg', 'B/original', 'worker-a', 60_000, 10);
        await store.countObject('b.jpg', 10, 'lease' in made ? made.count : undefined);
        const other = await store.claimTransfer('c.jpg', 'C/original', 'worker-a', 60_000, 5);
        await store.countObject('c.jpg', 5, 'lease' in other ? other.count : undefined);

        await Promise.all([store.uncountObject('b.jpg'), store.flush(), store.uncountObject('b.jpg')]);
        await store.uncountObject('b.jpg');
        await store.flush();
        expect(await store.getCounters()).toEqual({ objects: 1, bytes: 5 });

        await store.countObject('b.jpg', 12);
        await store.flush();
        expect(await store.getCounters()).toEqual({ objects: 2, bytes: 17 });
      });
    });
  });
}
