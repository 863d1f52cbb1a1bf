/**
 * The reconciling full enumeration over fakes with real semantics (issue 11, item 1): after a
 * stale token, what the manifest holds and the enumeration did not return is purged through the
 * work path, across several runs and crashes, with the token saved only after those purges are
 * on the queue, and in bounded memory at 100,000 photos.
 */
import { describe, expect, it } from 'vitest';
import { type DetectDeps, type DetectResult, detectChanges } from '#domain/detect/detect-changes.ts';
import { parseZoneCheckpoint } from '#domain/detect/zone-checkpoint.ts';
import { EnqueueError } from '#domain/errors.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY, MassDeletionRefusedError } from '#domain/plan/delete-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };

/** Keeps the purges (CPLAsset tombstones) and counts the rest; never serialises. */
class RecordingQueue implements WorkQueue {
  readonly purged: string[] = [];
  readonly refreshed: string[] = [];
  items = 0;
  failNext = false;
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    if (this.failNext) {
      this.failNext = false;
      throw new EnqueueError('queue down', messages.length);
    }
    for (const message of messages) {
      for (const item of message.items) {
        this.items += 1;
        if (item.type === 'tombstone' && item.inferredType === 'CPLAsset') this.purged.push(item.recordName);
      }
    }
    return { requested: messages.length, sent: messages.length };
  }
}

/** The store, able to die at the first reconciliation page (the walk is done, nothing reconciled). */
class CrashingStore extends InMemorySyncStateStore {
  crashAtUnseen = false;
  maxCheckpointBytes = 0;
  maxUnseenPage = 0;
  maxStamped = 0;
  onUnseenPage: (() => void) | undefined;
  override async unseenAssets(zone: ZoneRef, generation: string, cursor?: string) {
    if (this.crashAtUnseen) {
      this.crashAtUnseen = false;
      throw new Error('the Lambda died');
    }
    const page = await super.unseenAssets(zone, generation, cursor);
    this.maxUnseenPage = Math.max(this.maxUnseenPage, page.assets.length);
    this.onUnseenPage?.();
    return page;
  }
  override async markSeen(zone: ZoneRef, generation: string, names: readonly string[]) {
    this.maxStamped = Math.max(this.maxStamped, names.length);
    return super.markSeen(zone, generation, names);
  }
  override async saveZone(...args: Parameters<InMemorySyncStateStore['saveZone']>) {
    const bytes = JSON.stringify(args[0].checkpoint ?? null).length;
    this.maxCheckpointBytes = Math.max(this.maxCheckpointBytes, bytes);
    return super.saveZone(...args);
  }
}

/** An archived manifest entry for a photo (what the workers wrote on the first sync). */
async function archive(state: InMemorySyncStateStore, asset: Asset) {
  await state.putEntry(
    {
      zone: asset.zone,
      assetRecordName: asset.assetRecordName,
      masterRecordName: asset.masterRecordName,
      assetChangeTag: asset.assetChangeTag,
      status: 'archived',
      flags: { isFavorite: false, isHidden: asset.isHidden, isDeleted: false },
      albums: [],
      versions: [
        {
          kind: 'original',
          key: `k/${asset.assetRecordName}`,
          size: 10,
          sha256: 'ab'.repeat(32),
          md5: 'cd'.repeat(16),
          fileChecksum: 'c',
          archivedAt: 1,
        },
      ],
      deletions: [],
    },
    0,
  );
}

/**
 * A zone synced and archived (every photo has an entry), then `purge` photos removed from iCloud
 * without a trace the pipeline could read: the stored token is stale.
 */
async function staleAfterPurges(photos: number, purge: number, pageSize = 10) {
  let now = 1_750_000_000_000;
  const source = new LibraryAssetSource({ pageSize, onPage: () => (now += 1000) });
  const zone = source.addZone(PRIMARY, photos - 3, 3);
  const state = new CrashingStore({ now: () => now });
  const queue = new RecordingQueue();
  const first = await detectChanges({
    source,
    state,
    queue,
    now: () => now,
    remainingMs: () => 10 * 60 * 1000,
    runId: 'first',
    deletePolicy: DEFAULT_DELETE_POLICY,
  });
  expect(first.outcome).toBe('caughtUp');
  for (const asset of [...zone.library, ...zone.hidden]) await archive(state, asset);
  await state.adjustCounters({ objects: photos, bytes: photos * 10 });
  // Purged in iCloud (the database feed shows the zone changed), but the token that would carry
  // the tombstones is refused: the purges exist only as absences from the enumeration.
  const stored = (await state.loadZone(PRIMARY))?.syncToken ?? '';
  const purged = zone.library.slice(5, 5 + purge).map((a) => a.assetRecordName);
  source.change(
    'PrimarySync',
    purged.map((recordName) => ({ type: 'tombstone', zone: PRIMARY, recordName, inferredType: 'CPLAsset' })),
  );
  zone.expired.add(stored);
  queue.items = 0;
  source.calls.length = 0;
  return { source, zone, state, queue, purged, clock: { now: () => now } };
}

function runDeps(
  setup: Awaited<ReturnType<typeof staleAfterPurges>>,
  runId: string,
  extra: Partial<DetectDeps> = {},
): DetectDeps {
  return {
    source: setup.source,
    state: setup.state,
    queue: setup.queue,
    now: setup.clock.now,
    remainingMs: () => 10 * 60 * 1000,
    runId,
    deletePolicy: DEFAULT_DELETE_POLICY,
    ...extra,
  };
}

describe('a re-enumeration after a stale token', () => {
  it('purges what the manifest holds and the enumeration did not return, then saves the token', async () => {
    const setup = await staleAfterPurges(40, 3);
    const result = await detectChanges(runDeps(setup, 'r1'));
    expect(result.outcome).toBe('caughtUp');
    expect(result.zones[0]).toMatchObject({ note: 'staleToken', caughtUp: true });
    expect(setup.queue.purged.sort()).toEqual([...setup.purged].sort());
    const zoneState = await setup.state.loadZone(PRIMARY);
    expect(zoneState?.syncToken).toBe(setup.source.currentToken('PrimarySync'));
    expect(zoneState?.checkpoint).toBeUndefined();
    // Apple saw one lookup for the three candidates, nothing more than the walk otherwise.
    expect(setup.source.calls.filter((c) => c.startsWith('lookupAssets'))).toEqual([
      'lookupAssets:PrimarySync:3',
    ]);
  });

  it('spans several runs: the walk and the reconciliation resume from the checkpoint, the token comes last', async () => {
    const setup = await staleAfterPurges(120, 4);
    const results: DetectResult[] = [];
    for (let run = 0; run < 30; run++) {
      const start = setup.clock.now();
      // Each run has time for about three pages before its reserve.
      const result = await detectChanges(
        runDeps(setup, `r${run}`, {
          remainingMs: () => 24_000 - (setup.clock.now() - start),
          reserveMs: 20_000,
        }),
      );
      results.push(result);
      if (result.outcome !== 'continued') break;
      expect((await setup.state.loadZone(PRIMARY))?.syncToken).toBeUndefined();
    }
    expect(results.length).toBeGreaterThan(3);
    expect(results.at(-1)?.outcome).toBe('caughtUp');
    expect(setup.queue.purged.sort()).toEqual([...setup.purged].sort());
    expect((await setup.state.loadZone(PRIMARY))?.syncToken).toBe(setup.source.currentToken('PrimarySync'));
  });

  it('survives a crash between the walk and the reconciliation without walking again', async () => {
    const setup = await staleAfterPurges(40, 2);
    setup.state.crashAtUnseen = true;
    await expect(detectChanges(runDeps(setup, 'r1'))).rejects.toThrow('the Lambda died');
    const stopped = await setup.state.loadZone(PRIMARY);
    expect(stopped?.syncToken).toBeUndefined();
    expect(parseZoneCheckpoint(stopped?.checkpoint).reconcile?.generation).toBe('r1');
    expect(setup.queue.purged).toEqual([]);

    setup.source.calls.length = 0;
    const resumed = await detectChanges(runDeps(setup, 'r2'));
    expect(resumed.outcome).toBe('caughtUp');
    expect(setup.source.calls.some((c) => c.startsWith('enumeratePage'))).toBe(false);
    expect(setup.queue.purged.sort()).toEqual([...setup.purged].sort());
    expect((await setup.state.loadZone(PRIMARY))?.syncToken).toBe(setup.source.currentToken('PrimarySync'));
  });

  it('keeps the token unsaved when the purges cannot be enqueued, and enqueues them on the next run', async () => {
    const setup = await staleAfterPurges(12, 2, 100);
    // The walk is one page; the second enqueue is the reconciliation's purges.
    let enqueues = 0;
    const queue = setup.queue;
    const failing: WorkQueue = {
      enqueue: async (messages) => {
        enqueues += 1;
        if (enqueues === 2) queue.failNext = true;
        return queue.enqueue(messages);
      },
    };
    await expect(detectChanges(runDeps(setup, 'r1', { queue: failing }))).rejects.toBeInstanceOf(
      EnqueueError,
    );
    expect((await setup.state.loadZone(PRIMARY))?.syncToken).toBeUndefined();
    expect(queue.purged).toEqual([]);
    const next = await detectChanges(runDeps(setup, 'r2'));
    expect(next.outcome).toBe('caughtUp');
    expect(queue.purged.sort()).toEqual([...setup.purged].sort());
  });

  it('refuses under mirror past the limit, keeping its place and the old token unsaved', async () => {
    const setup = await staleAfterPurges(40, 10);
    const mirror = { mode: 'mirror', maxDeleteFraction: 0.1, maxDeleteCount: 1000 } as const;
    await expect(detectChanges(runDeps(setup, 'r1', { deletePolicy: mirror }))).rejects.toBeInstanceOf(
      MassDeletionRefusedError,
    );
    expect(setup.queue.purged).toEqual([]);
    const zoneState = await setup.state.loadZone(PRIMARY);
    expect(zoneState?.syncToken).toBeUndefined();
    expect(parseZoneCheckpoint(zoneState?.checkpoint).reconcile).toBeDefined();
    const raised = { ...mirror, maxDeleteFraction: 0.5 };
    expect((await detectChanges(runDeps(setup, 'r2', { deletePolicy: raised }))).outcome).toBe('caughtUp');
    expect(setup.queue.purged.sort()).toEqual([...setup.purged].sort());
  });

  it('never purges a photo the walk missed but iCloud still has (it moved while the walk ran)', async () => {
    const setup = await staleAfterPurges(40, 1);
    const moved = setup.zone.hidden[0];
    if (moved === undefined) throw new Error('no hidden photo');
    // Unhidden once the library walk is past rank 0: neither walk returns it.
    let pages = 0;
    setup.source.onPage = () => {
      pages += 1;
      if (pages === 5) {
        setup.zone.hidden.splice(0, 1);
        setup.zone.library.unshift({ ...moved, isHidden: false });
      }
    };
    expect((await detectChanges(runDeps(setup, 'r1'))).outcome).toBe('caughtUp');
    expect(setup.queue.purged).toEqual(setup.purged);
    expect(setup.queue.purged).not.toContain(moved.assetRecordName);
  });
});

describe('a first sync over an existing archive', () => {
  it('reconciles too: the zone state was lost, the manifest was not', async () => {
    const setup = await staleAfterPurges(30, 2);
    const stored = await setup.state.loadZone(PRIMARY);
    // A new state for the zone, as if its item were lost: no token, no checkpoint, and its
    // database token reset so the zone counts as changed.
    await setup.state.saveZone({ zone: PRIMARY, checkpoint: null }, stored?.revision ?? 0);
    const result = await detectChanges(runDeps(setup, 'r1'));
    expect(result.outcome).toBe('caughtUp');
    expect(result.zones[0]).toMatchObject({ mode: 'enumeration', caughtUp: true });
    expect(setup.queue.purged.sort()).toEqual([...setup.purged].sort());
  });

  it('does not stamp anything when the archive is empty (a true first sync)', async () => {
    const source = new LibraryAssetSource();
    source.addZone(PRIMARY, 30);
    const state = new CrashingStore();
    const queue = new RecordingQueue();
    const result = await detectChanges({
      source,
      state,
      queue,
      now: () => 1,
      remainingMs: () => 600_000,
      runId: 'first',
      deletePolicy: DEFAULT_DELETE_POLICY,
    });
    expect(result.outcome).toBe('caughtUp');
    expect(state.reconcileCalls).toEqual({ markSeen: 0, unseenAssets: 0 });
  });
});

describe('a re-enumeration of 100,000 photos after a stale token', () => {
  it('reconciles in bounded pages: no name set, small checkpoints, one lookup per 50 candidates', async () => {
    const setup = await staleAfterPurges(100_000, 120, 200);
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const ticking = setup.source.onPage;
    setup.source.onPage = () => {
      ticking?.();
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    };
    setup.state.onUnseenPage = () => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed));
    const outcomes: string[] = [];
    for (let run = 0; run < 40; run++) {
      const start = setup.clock.now();
      const result = await detectChanges(
        runDeps(setup, `r${run}`, { remainingMs: () => 170_000 - (setup.clock.now() - start) }),
      );
      outcomes.push(result.outcome);
      if (result.outcome !== 'continued') break;
    }
    const heapPeakMiB = (heapPeak - heapBefore) / 2 ** 20;
    expect(outcomes.at(-1)).toBe('caughtUp');
    expect(outcomes.length).toBeGreaterThan(2);
    expect(setup.queue.purged.sort()).toEqual([...setup.purged].sort());
    // Bounded by the page, whatever the zone's size.
    expect(setup.state.maxStamped).toBeLessThanOrEqual(200);
    expect(setup.state.maxUnseenPage).toBeLessThanOrEqual(100);
    // The walk's cursor names the records of its last page (finding 17): a page's worth, no more.
    expect(setup.state.maxCheckpointBytes).toBeLessThan(8 * 1024);
    const lookups = setup.source.calls.filter((c) => c.startsWith('lookupAssets'));
    // Candidates gather across pages: a lookup per 50, plus one per run that stopped mid-pass.
    expect(lookups.length).toBeLessThanOrEqual(Math.ceil(120 / 50) + outcomes.length);
    console.info(
      `100k reconciliation: ${outcomes.length} runs, ${setup.source.calls.filter((c) => c.startsWith('enumeratePage')).length} enumeration pages, ` +
        `${lookups.length} lookups, ${setup.state.reconcileCalls.markSeen} stamp calls, ` +
        `${setup.state.reconcileCalls.unseenAssets} unseen pages, max checkpoint ${setup.state.maxCheckpointBytes} B, ` +
        `heap peak +${heapPeakMiB.toFixed(1)} MiB over the set-up archive (the fake store's 100k stamps included)`,
    );
  }, 120_000);
});
