/**
 * A first sync whose enumeration spans several invocations. The zone's token is captured on the
 * enumeration's first page, so what changes meanwhile is in the zone's delta; but the run that
 * ended the enumeration saved the database token it had just read, past those changes, so the
 * database delta no longer listed the zone and the change waited for the zone's next change
 * (on a quiet library, for ever). The same rule as the album walk now holds: the run keeps the
 * database's older token and the next run follows the zone.
 */
import { describe, expect, it } from 'vitest';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
/** Each request to Apple takes a second; an invocation has 14 and stops taking new work at 10 left. */
const INVOCATION_MS = 14_000;
const RESERVE_MS = 10_000;

class CollectingQueue implements WorkQueue {
  readonly sent: WorkMessage[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    this.sent.push(...messages);
    return { requested: messages.length, sent: messages.length };
  }
}

function setUp() {
  const source = new LibraryAssetSource({ pageSize: 10 });
  const zone = source.addZone(ZONE, 60);
  const state = new InMemorySyncStateStore();
  const queue = new CollectingQueue();
  let started = 0;
  let budget = INVOCATION_MS;
  const remainingMs = () => budget - (source.calls.length - started) * 1_000;
  const invoke = async (runId: string, ms = INVOCATION_MS) => {
    started = source.calls.length;
    budget = ms;
    const deps: DetectDeps = {
      source,
      state,
      albums: state,
      queue,
      now: () => 1_000,
      remainingMs,
      reserveMs: RESERVE_MS,
      runId,
      deletePolicy: DEFAULT_DELETE_POLICY,
    };
    return (await detectChanges(deps)).outcome;
  };
  return { source, zone, queue, state, invoke };
}

describe('a first sync longer than one invocation', () => {
  it('queues what changed during the enumeration on the run after it', async () => {
    const { source, zone, queue, invoke } = setUp();
    expect(await invoke('r1')).toBe('continued');
    // Photos already read change in iCloud while the enumeration is under way: one is made a
    // favourite, one deleted, and a new one dated before them joins the part already read.
    const favourite = { ...zone.library[1]!, isFavorite: true, assetChangeTag: 'fav' };
    const added = { ...zone.library[0]!, assetRecordName: 'NEW-A', masterRecordName: 'NEW-M' };
    const deleted = zone.library[3]!.assetRecordName;
    source.change('PrimarySync', [
      { type: 'asset', asset: favourite },
      { type: 'asset', asset: added },
      { type: 'tombstone', zone: ZONE, recordName: deleted, inferredType: 'CPLAsset' },
    ]);
    queue.sent.length = 0;
    const outcomes: string[] = [];
    while (outcomes.at(-1) !== 'caughtUp' && outcomes.length < 10)
      outcomes.push(await invoke(`r${outcomes.length + 2}`));
    expect(outcomes.at(-1)).toBe('caughtUp');
    expect(outcomes.slice(0, -1)).toEqual(outcomes.slice(0, -1).map(() => 'continued'));
    expect(outcomes.length).toBeGreaterThan(1);
    const before = queue.sent.length;
    // Read during the enumeration: the favourite as it was, the new one not at all.
    expect(await invoke('after')).toBe('caughtUp');
    const items = queue.sent.slice(before).flatMap((m) => m.items);
    const names = items.map((i) =>
      i.type === 'asset' ? i.asset.assetRecordName : i.type === 'tombstone' ? i.recordName : '',
    );
    expect(names).toEqual(expect.arrayContaining([favourite.assetRecordName, 'NEW-A', deleted]));
    expect(await invoke('quiet')).toBe('idle');
  });

  it('costs the run after it nothing more when nothing changed meanwhile', async () => {
    const { source, invoke } = setUp();
    const outcomes: string[] = [];
    while (outcomes.at(-1) !== 'caughtUp' && outcomes.length < 10)
      outcomes.push(await invoke(`r${outcomes.length + 1}`));
    // Over several runs (how many depends on the indexes a first enumeration reads).
    expect(outcomes.at(-1)).toBe('caughtUp');
    expect(outcomes.slice(0, -1)).toEqual(outcomes.slice(0, -1).map(() => 'continued'));
    expect(outcomes.length).toBeGreaterThan(2);
    const before = source.calls.length;
    expect(await invoke('after')).toBe('idle');
    expect(source.calls.slice(before)).toEqual(['changedZones:private']);
  });

  it('does the same for a reconciling walk afresh after a refused zone token', async () => {
    const { source, zone, queue, state, invoke } = setUp();
    expect(await invoke('full', 600_000)).toBe('caughtUp');
    zone.expired.add(source.currentToken('PrimarySync'));
    source.change('PrimarySync', [{ type: 'asset', asset: { ...zone.library[9]!, assetChangeTag: 'x' } }]);
    expect(await invoke('r1')).toBe('continued');
    expect((await state.loadZone(ZONE))?.checkpoint).toMatchObject({ enumeration: { generation: 'r1' } });
    const favourite = { ...zone.library[1]!, isFavorite: true, assetChangeTag: 'fav' };
    source.change('PrimarySync', [{ type: 'asset', asset: favourite }]);
    queue.sent.length = 0;
    const outcomes: string[] = [];
    while (outcomes.at(-1) !== 'caughtUp' && outcomes.length < 10)
      outcomes.push(await invoke(`r${outcomes.length + 2}`));
    expect(outcomes.at(-1)).toBe('caughtUp');
    const before = queue.sent.length;
    expect(await invoke('after')).toBe('caughtUp');
    const names = queue.sent
      .slice(before)
      .flatMap((m) => m.items.map((i) => (i.type === 'asset' ? i.asset.assetRecordName : '')));
    expect(names).toContain(favourite.assetRecordName);
    expect(await invoke('quiet')).toBe('idle');
  });
});
