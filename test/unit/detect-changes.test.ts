/**
 * Change detection over fakes with real semantics: a library-backed `AssetSource`
 * (`test/fakes/library-asset-source.ts`: zones with photos, a change log per zone with tokens,
 * enumeration pages by rank), the in-memory state store, and queues that count or fail.
 */
import { describe, expect, it } from 'vitest';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import { EnqueueError } from '#domain/errors.ts';
import type { ZoneSyncStateInput } from '#domain/model/sync-state.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY, MassDeletionRefusedError } from '#domain/plan/delete-policy.ts';
import type { AssetSource } from '#ports/asset-source.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import {
  type FakeZone,
  LibraryAssetSource as LibrarySource,
  libraryPhoto as photo,
} from '#test/fakes/library-asset-source.ts';
import { PartialFailureWorkQueue } from '#test/fakes/partial-failure-work-queue.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const SHARED: ZoneRef = { database: 'private', zoneName: 'SharedSync-1' };

/** Counts the items of every work message it stores; never serialises (cheap at 100,000 photos). */
class CountingWorkQueue implements WorkQueue {
  readonly assetNames: string[] = [];
  items = 0;
  messages = 0;
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    for (const message of messages) {
      this.messages += 1;
      this.items += message.items.length;
      for (const item of message.items)
        if (item.type === 'asset') this.assetNames.push(item.asset.assetRecordName);
    }
    return { requested: messages.length, sent: messages.length };
  }
}

/** The in-memory store, counting every write that changes state (the lock attempt included). */
class WriteCountingStore extends InMemorySyncStateStore {
  readonly writes: string[] = [];
  readonly reads: string[] = [];
  override async loadZones() {
    this.reads.push('loadZones');
    return super.loadZones();
  }
  override async loadZone(zone: ZoneRef) {
    this.reads.push(`loadZone:${zone.zoneName}`);
    return super.loadZone(zone);
  }
  override async loadDatabaseState(database: DatabaseScope) {
    this.reads.push(`loadDatabaseState:${database}`);
    return super.loadDatabaseState(database);
  }
  override async saveZone(state: ZoneSyncStateInput, expectedRevision: number) {
    this.writes.push(`saveZone:${state.zone.zoneName}`);
    return super.saveZone(state, expectedRevision);
  }
  override async saveDatabaseToken(database: DatabaseScope, syncToken: string, expectedRevision: number) {
    this.writes.push(`saveDatabaseToken:${database}`);
    return super.saveDatabaseToken(database, syncToken, expectedRevision);
  }
  override async acquireLock(name: string, owner: string, leaseMs: number) {
    this.writes.push('acquireLock');
    return super.acquireLock(name, owner, leaseMs);
  }
  override async releaseLock(lease: Parameters<InMemorySyncStateStore['releaseLock']>[0]) {
    this.writes.push('releaseLock');
    return super.releaseLock(lease);
  }
  override async startRun(...args: Parameters<InMemorySyncStateStore['startRun']>) {
    this.writes.push('startRun');
    return super.startRun(...args);
  }
}

function deps(
  source: AssetSource,
  state: WriteCountingStore,
  queue: WorkQueue,
  extra: Partial<DetectDeps> = {},
): DetectDeps {
  return {
    source,
    state,
    queue,
    now: () => 1_750_000_000_000,
    remainingMs: () => 10 * 60 * 1000,
    runId: 'run-1',
    deletePolicy: DEFAULT_DELETE_POLICY,
    ...extra,
  };
}

/** A library with one synced zone: the first sync has run to completion. */
async function synced(photos = 25) {
  const source = new LibrarySource();
  source.addZone(PRIMARY, photos, 3);
  const state = new WriteCountingStore();
  const first = await detectChanges(deps(source, state, new CountingWorkQueue()));
  expect(first.outcome).toBe('caughtUp');
  state.writes.length = 0;
  source.calls.length = 0;
  return { source, state };
}

describe('an idle detection', () => {
  it('makes one request and writes nothing when nothing changed', async () => {
    const { source, state } = await synced();
    const queue = new CountingWorkQueue();

    const result = await detectChanges(deps(source, state, queue));

    expect(result.outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
    expect(state.writes).toEqual([]);
    expect(queue.messages).toBe(0);
  });
});

describe('reading the state', () => {
  it('reads each stored state once per run', async () => {
    const { source, state } = await synced();
    source.addZone(SHARED, 4);
    source.change('PrimarySync', []);
    await detectChanges(deps(source, state, new CountingWorkQueue()));
    state.reads.length = 0;
    source.change('PrimarySync', []);
    source.change(SHARED.zoneName, [], { quiet: false });

    await detectChanges(deps(source, state, new CountingWorkQueue()));

    expect([...state.reads].sort()).toEqual([...new Set(state.reads)].sort());
    expect(state.reads.filter((r) => r === 'loadZones')).toHaveLength(1);
  });

  it("reads the archive's totals once for a first sync of two zones (issue 12)", async () => {
    const source = new LibrarySource();
    source.addZone(PRIMARY, 5);
    source.addZone(SHARED, 4);
    const state = new WriteCountingStore();
    let totalsReads = 0;
    const getCounters = state.getCounters.bind(state);
    state.getCounters = async () => {
      totalsReads += 1;
      return getCounters();
    };

    const result = await detectChanges(deps(source, state, new CountingWorkQueue()));

    expect(result.outcome).toBe('caughtUp');
    // Whether an enumeration must reconcile: the archive as the run found it, for every zone.
    expect(totalsReads).toBe(1);
  });

  it('does not read a zone again when a stale token restarts its enumeration', async () => {
    const { source, state } = await synced(25);
    (source.zones.get('PrimarySync') as FakeZone).expired.add('PrimarySync@0');
    source.change('PrimarySync', [{ type: 'asset', asset: photo(PRIMARY, 800) }]);
    state.reads.length = 0;

    const result = await detectChanges(deps(source, state, new CountingWorkQueue()));

    expect(result.zones[0]).toMatchObject({ note: 'staleToken', caughtUp: true });
    expect(state.reads.filter((r) => r === 'loadZone:PrimarySync')).toHaveLength(1);
  });
});

describe('the first sync of a zone', () => {
  it('enumerates the library and the hidden photos and stores the token captured on the first page', async () => {
    const source = new LibrarySource();
    source.addZone(PRIMARY, 25, 3);
    const state = new WriteCountingStore();
    const queue = new CountingWorkQueue();

    const result = await detectChanges(deps(source, state, queue));

    expect(result.outcome).toBe('caughtUp');
    expect(new Set(queue.assetNames).size).toBe(28);
    expect(await state.loadZone(PRIMARY)).toMatchObject({ syncToken: 'PrimarySync@0' });
    expect((await state.loadZone(PRIMARY))?.checkpoint).toBeUndefined();
  });

  it('saves a checkpoint after each page it enqueued', async () => {
    const source = new LibrarySource();
    source.addZone(PRIMARY, 25, 3);
    const state = new WriteCountingStore();

    await detectChanges(deps(source, state, new CountingWorkQueue()));

    const pages = source.calls.filter((c) => c.startsWith('enumeratePage')).length;
    // Three of the library, one of the hidden photos, one of Recently Deleted (empty).
    expect(pages).toBe(5);
    expect(state.writes.filter((w) => w === 'saveZone:PrimarySync')).toHaveLength(pages);
  });

  it('replays changes made during the enumeration with the next delta', async () => {
    const source = new LibrarySource();
    source.addZone(PRIMARY, 25);
    const state = new WriteCountingStore();
    let pages = 0;
    source.onPage = () => {
      pages += 1;
      if (pages === 2) source.change('PrimarySync', [{ type: 'asset', asset: photo(PRIMARY, 500) }]);
    };
    const first = new CountingWorkQueue();
    await detectChanges(deps(source, state, first));
    expect(first.assetNames).not.toContain('PrimarySync-A500');
    const queue = new CountingWorkQueue();

    const next = await detectChanges(deps(source, state, queue));

    expect(next.outcome).toBe('caughtUp');
    expect(queue.assetNames).toEqual(['PrimarySync-A500']);
  });
});

describe('durability of the sync token', () => {
  it('leaves the zone untouched when enqueueing the first page fails', async () => {
    const source = new LibrarySource();
    source.addZone(PRIMARY, 25);
    const state = new WriteCountingStore();

    await expect(
      detectChanges(deps(source, state, new PartialFailureWorkQueue({ storeFirst: 1 }))),
    ).rejects.toThrow(EnqueueError);

    expect(await state.loadZone(PRIMARY)).toBeUndefined();
    expect(await state.loadDatabaseState('private')).toBeUndefined();
    const queue = new CountingWorkQueue();
    expect((await detectChanges(deps(source, state, queue))).outcome).toBe('caughtUp');
    expect(new Set(queue.assetNames).size).toBe(25);
  });

  it('does not advance an incremental token when enqueueing the delta fails', async () => {
    const { source, state } = await synced();
    const before = await state.loadZone(PRIMARY);
    source.change('PrimarySync', [{ type: 'asset', asset: photo(PRIMARY, 900) }]);

    await expect(
      detectChanges(deps(source, state, new PartialFailureWorkQueue({ storeFirst: 0 }))),
    ).rejects.toThrow(EnqueueError);

    expect(await state.loadZone(PRIMARY)).toEqual(before);
    expect(state.writes.filter((w) => w.startsWith('save'))).toEqual([]);
    const queue = new CountingWorkQueue();
    await detectChanges(deps(source, state, queue));
    expect(queue.assetNames).toEqual(['PrimarySync-A900']);
  });

  it('keeps the database token until every zone it named has caught up', async () => {
    const source = new LibrarySource();
    source.addZone(PRIMARY, 40);
    const state = new WriteCountingStore();
    let left = 2;
    const result = await detectChanges(
      deps(source, state, new CountingWorkQueue(), {
        remainingMs: () => (left-- > 0 ? 60_000 : 0),
        reserveMs: 1,
      }),
    );

    expect(result.outcome).toBe('continued');
    expect(await state.loadDatabaseState('private')).toBeUndefined();
    expect(state.writes).not.toContain('saveDatabaseToken:private');
  });
});

describe('following a zone delta', () => {
  it('keeps reading through empty pages that say more is coming', async () => {
    const { source, state } = await synced();
    source.change('PrimarySync', []);
    source.change('PrimarySync', [], { quiet: true });
    source.change('PrimarySync', [{ type: 'asset', asset: photo(PRIMARY, 700) }], { quiet: true });
    const queue = new CountingWorkQueue();

    const result = await detectChanges(deps(source, state, queue));

    expect(result.outcome).toBe('caughtUp');
    expect(result.zones[0]).toMatchObject({ pages: 3, caughtUp: true });
    expect(queue.assetNames).toEqual(['PrimarySync-A700']);
    expect(await state.loadZone(PRIMARY)).toMatchObject({ syncToken: 'PrimarySync@3' });
  });

  it('enumerates the zone afresh when CloudKit refuses the stored token', async () => {
    const { source, state } = await synced(25);
    const zone = source.zones.get('PrimarySync') as FakeZone;
    zone.expired.add('PrimarySync@0');
    source.change('PrimarySync', [{ type: 'asset', asset: photo(PRIMARY, 800) }]);
    const queue = new CountingWorkQueue();

    const result = await detectChanges(deps(source, state, queue));

    expect(result.outcome).toBe('caughtUp');
    expect(result.zones[0]).toMatchObject({ mode: 'enumeration', note: 'staleToken', caughtUp: true });
    expect(new Set(queue.assetNames).size).toBe(25 + 3 + 1);
    expect(await state.loadZone(PRIMARY)).toMatchObject({ syncToken: 'PrimarySync@1' });
  });

  it('retires a Shared Library zone that no longer exists and skips it while Apple does not list it', async () => {
    const { source, state } = await synced();
    source.addZone(SHARED, 5);
    await detectChanges(deps(source, state, new CountingWorkQueue()));
    (source.zones.get(SHARED.zoneName) as FakeZone).gone = true;
    source.change('PrimarySync', []);
    source.change(SHARED.zoneName, [], { quiet: false });

    const result = await detectChanges(deps(source, state, new CountingWorkQueue()));

    expect(result.zones.find((z) => z.zone.zoneName === SHARED.zoneName)).toMatchObject({ note: 'zoneGone' });
    expect(await state.loadZone(SHARED)).toMatchObject({ retired: true });
    source.calls.length = 0;
    source.change('PrimarySync', [{ type: 'asset', asset: photo(PRIMARY, 750) }]);
    await detectChanges(deps(source, state, new CountingWorkQueue()));
    expect(source.calls.filter((c) => c.includes(SHARED.zoneName))).toEqual([]);
    expect(await state.loadZone(SHARED)).toMatchObject({ retired: true });
  });

  it('follows a retired zone again, with a reconciling walk, once Apple lists it as changed again (finding 18)', async () => {
    const { source, state } = await synced();
    source.addZone(SHARED, 5);
    await detectChanges(deps(source, state, new CountingWorkQueue()));
    const shared = source.zones.get(SHARED.zoneName) as FakeZone;
    shared.gone = true;
    source.change(SHARED.zoneName, []);
    await detectChanges(deps(source, state, new CountingWorkQueue()));
    expect(await state.loadZone(SHARED)).toMatchObject({ retired: true });
    shared.gone = false;
    source.change(SHARED.zoneName, [{ type: 'asset', asset: photo(SHARED, 50) }]);
    const queue = new CountingWorkQueue();

    const result = await detectChanges(deps(source, state, queue));

    expect(result.outcome).toBe('caughtUp');
    expect(result.zones.find((z) => z.zone.zoneName === SHARED.zoneName)).toMatchObject({
      mode: 'enumeration',
      note: 'zoneReturned',
      caughtUp: true,
    });
    expect(queue.assetNames).toContain('SharedSync-1-A50');
    const after = await state.loadZone(SHARED);
    expect(after?.retired).toBeUndefined();
    expect(after).toMatchObject({ syncToken: source.currentToken(SHARED.zoneName) });
  });
});

describe('the own library (PrimarySync) answering ZONE_NOT_FOUND (finding 18)', () => {
  it('is never retired: the run fails with an account condition, and the next run follows it from its token', async () => {
    const { source, state } = await synced();
    const primary = source.zones.get('PrimarySync') as FakeZone;
    const before = await state.loadZone(PRIMARY);
    primary.gone = true;
    source.change('PrimarySync', []);

    await expect(detectChanges(deps(source, state, new CountingWorkQueue()))).rejects.toMatchObject({
      name: 'AccountConditionError',
      condition: 'photosUnavailable',
    });
    expect((await state.loadZone(PRIMARY))?.retired).toBeUndefined();
    expect((await state.loadZone(PRIMARY))?.syncToken).toBe(before?.syncToken);

    primary.gone = false;
    source.change('PrimarySync', [{ type: 'asset', asset: photo(PRIMARY, 880) }]);
    const queue = new CountingWorkQueue();
    const result = await detectChanges(deps(source, state, queue));

    expect(result.outcome).toBe('caughtUp');
    expect(result.zones[0]).toMatchObject({ mode: 'incremental', caughtUp: true });
    expect(queue.assetNames).toEqual(['PrimarySync-A880']);
  });

  it('walks again a PrimarySync an earlier version retired, without waiting for a change', async () => {
    const { source, state } = await synced(12);
    const stored = await state.loadZone(PRIMARY);
    await state.saveZone({ zone: PRIMARY, retired: true }, stored?.revision ?? 0);
    const queue = new CountingWorkQueue();

    const result = await detectChanges(deps(source, state, queue));

    expect(result.outcome).toBe('caughtUp');
    expect(result.zones[0]).toMatchObject({ mode: 'enumeration', note: 'zoneReturned', caughtUp: true });
    expect((await state.loadZone(PRIMARY))?.retired).toBeUndefined();
    expect((await state.loadZone(PRIMARY))?.syncToken).toBe(source.currentToken('PrimarySync'));
  });
});

describe('the own library Apple lists as PrimarySync1 instead (S141, finding 30)', () => {
  const MOVED: ZoneRef = { database: 'private', zoneName: 'PrimarySync1' };

  it('retires PrimarySync when zones/list shows the library moved, walks PrimarySync1, and is idle after', async () => {
    const { source, state } = await synced(12);
    (source.zones.get('PrimarySync') as FakeZone).gone = true;
    source.addZone(MOVED, 12);
    const queue = new CountingWorkQueue();

    const result = await detectChanges(deps(source, state, queue));

    expect(result.outcome).toBe('caughtUp');
    expect(result.zones).toMatchObject([
      { zone: MOVED, mode: 'enumeration', caughtUp: true },
      { zone: PRIMARY, note: 'zoneGone', caughtUp: true },
    ]);
    expect(queue.assetNames).toHaveLength(12);
    expect((await state.loadZone(PRIMARY))?.retired).toBe(true);
    expect((await state.loadZone(MOVED))?.syncToken).toBe(source.currentToken('PrimarySync1'));
    source.calls.length = 0;
    expect((await detectChanges(deps(source, state, new CountingWorkQueue()))).outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
  });

  it('walks PrimarySync1 in the run whose unfinished PrimarySync walk meets ZONE_NOT_FOUND', async () => {
    const { source, state } = await synced(12);
    const stored = await state.loadZone(PRIMARY);
    await state.saveZone({ zone: PRIMARY }, stored?.revision ?? 0);
    (source.zones.get('PrimarySync') as FakeZone).gone = true;
    source.addZone(MOVED, 12);
    // The database token already covers PrimarySync1: only the failing PrimarySync walk can reveal it.
    const database = await state.loadDatabaseState('private');
    await state.saveDatabaseToken('private', '2', database?.revision ?? 0);

    const result = await detectChanges(deps(source, state, new CountingWorkQueue()));

    expect(result.outcome).toBe('caughtUp');
    expect(result.zones.map((z) => [z.zone.zoneName, z.note ?? z.mode])).toContainEqual([
      'PrimarySync',
      'zoneGone',
    ]);
    expect((await state.loadZone(MOVED))?.syncToken).toBe(source.currentToken('PrimarySync1'));
  });
});

describe('a database token CloudKit refuses (finding 19)', () => {
  it('reads the database without a token once; each zone goes on from its own token and the new database token is saved', async () => {
    const { source, state } = await synced();
    source.addZone(SHARED, 5);
    await detectChanges(deps(source, state, new CountingWorkQueue()));
    const refused = (await state.loadDatabaseState('private'))?.syncToken as string;
    source.expiredDatabaseTokens.add(refused);
    source.change('PrimarySync', [{ type: 'asset', asset: photo(PRIMARY, 990) }]);
    source.calls.length = 0;
    const queue = new CountingWorkQueue();

    const result = await detectChanges(deps(source, state, queue));

    expect(result.outcome).toBe('caughtUp');
    expect(result.databaseTokensRefused).toEqual(['private']);
    expect(source.calls.filter((c) => c.startsWith('changedZones'))).toEqual([
      'changedZones:private',
      'changedZones:private',
    ]);
    expect(source.calls.filter((c) => c.startsWith('enumeratePage'))).toEqual([]);
    expect(result.zones.map((z) => z.mode)).toEqual(['incremental', 'incremental']);
    expect(queue.assetNames).toEqual(['PrimarySync-A990']);
    expect((await state.loadDatabaseState('private'))?.syncToken).not.toBe(refused);

    source.calls.length = 0;
    const next = await detectChanges(deps(source, state, new CountingWorkQueue()));
    expect(next.outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
  });

  it('fails the run when CloudKit refuses a database token a second time in one run', async () => {
    const { source, state } = await synced();
    const refused = (await state.loadDatabaseState('private'))?.syncToken as string;
    source.expiredDatabaseTokens.add(refused);
    // A tokenless read that pages on: its continuation token is refused too.
    const original = source.changedZones.bind(source);
    source.changedZones = async (database, syncToken) => {
      const answer = await original(database, syncToken);
      if (syncToken !== undefined) return answer;
      source.expiredDatabaseTokens.add('continued');
      return { ...answer, syncToken: 'continued', moreComing: true };
    };

    await expect(detectChanges(deps(source, state, new CountingWorkQueue()))).rejects.toMatchObject({
      name: 'StaleSyncTokenError',
    });
    expect((await state.loadDatabaseState('private'))?.syncToken).toBe(refused);
  });
});

describe('the detection lock', () => {
  it('reports locked and writes nothing while another run holds it', async () => {
    const { source, state } = await synced();
    await state.acquireLock('detect-changes', 'another-run', 15 * 60 * 1000);
    source.change('PrimarySync', [{ type: 'asset', asset: photo(PRIMARY, 600) }]);
    state.writes.length = 0;
    const zoneBefore = await state.loadZone(PRIMARY);
    const queue = new CountingWorkQueue();

    const result = await detectChanges(deps(source, state, queue, { runId: 'run-2' }));

    expect(result.outcome).toBe('locked');
    expect(state.writes).toEqual(['acquireLock']);
    expect(await state.loadZone(PRIMARY)).toEqual(zoneBefore);
    expect(queue.messages).toBe(0);
  });
});

describe('the mirror safety stop', () => {
  it('refuses a page of purges over the limit before enqueueing it, and keeps the token', async () => {
    const { source, state } = await synced(25);
    await state.adjustCounters({ objects: 100 });
    // Six archived photos of one object each: 6 deletions, over 5 % of 100.
    for (let i = 0; i < 6; i++) {
      await state.putEntry(
        {
          zone: PRIMARY,
          assetRecordName: `PrimarySync-A${i}`,
          masterRecordName: `master-${i}`,
          assetChangeTag: 'a',
          status: 'archived',
          flags: { isFavorite: false, isHidden: false, isDeleted: false },
          albums: [],
          versions: [
            {
              kind: 'original',
              key: `library/2024/2024-01-01/IMG_${i}.JPG`,
              size: 1,
              sha256: 'x',
              md5: 'y',
              fileChecksum: `c${i}`,
              archivedAt: 0,
            },
          ],
          deletions: [],
        },
        0,
      );
    }
    const before = await state.loadZone(PRIMARY);
    source.change(
      'PrimarySync',
      Array.from({ length: 6 }, (_, i) => ({
        type: 'tombstone' as const,
        zone: PRIMARY,
        recordName: `PrimarySync-A${i}`,
        inferredType: 'CPLAsset' as const,
      })),
    );
    const queue = new CountingWorkQueue();

    await expect(
      detectChanges(
        deps(source, state, queue, {
          deletePolicy: { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 1000 },
        }),
      ),
    ).rejects.toThrow(MassDeletionRefusedError);

    expect(queue.items).toBe(0);
    expect(await state.loadZone(PRIMARY)).toEqual(before);
  });
});

describe('the mirror safety stop counts archived objects', () => {
  it('lets through purges of photos the archive never held (nothing would be deleted)', async () => {
    const { source, state } = await synced(25);
    await state.adjustCounters({ objects: 100 });
    source.change(
      'PrimarySync',
      Array.from({ length: 30 }, (_, i) => ({
        type: 'tombstone' as const,
        zone: PRIMARY,
        recordName: `never-archived-${i}`,
        inferredType: 'CPLAsset' as const,
      })),
    );
    const queue = new CountingWorkQueue();
    const result = await detectChanges(
      deps(source, state, queue, {
        deletePolicy: { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 1000 },
      }),
    );
    expect(result.outcome).toBe('caughtUp');
    expect(queue.items).toBe(30);
  });
});

describe('a first sync of 100,000 photos', () => {
  it('completes across several runs, each stopping at its deadline with its checkpoint saved', async () => {
    let now = 0;
    const source = new LibrarySource({ pageSize: 200, onPage: () => (now += 1000) });
    source.addZone(PRIMARY, 99_000, 1_000);
    const state = new WriteCountingStore({ now: () => now });
    const queue = new CountingWorkQueue();
    const outcomes: string[] = [];

    for (let run = 0; run < 20; run++) {
      const deadline = now + 150_000;
      const result = await detectChanges(
        deps(source, state, queue, {
          runId: `run-${run}`,
          now: () => now,
          remainingMs: () => deadline - now,
        }),
      );
      outcomes.push(result.outcome);
      if (result.outcome !== 'continued') break;
    }

    expect(outcomes.length).toBeGreaterThan(3);
    expect(outcomes.at(-1)).toBe('caughtUp');
    expect(outcomes.slice(0, -1).every((o) => o === 'continued')).toBe(true);
    expect(queue.assetNames).toHaveLength(100_000);
    expect(new Set(queue.assetNames).size).toBe(100_000);
    expect(await state.loadZone(PRIMARY)).toMatchObject({ syncToken: 'PrimarySync@0' });
  });
});
