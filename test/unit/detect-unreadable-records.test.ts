/**
 * Records CloudKit answers as error entries while detection reads a zone: the zone's token moves
 * on, the names wait with the zone and are looked up again on later runs, with backoff and a cap,
 * so a record that never reads neither blocks the zone nor keeps it busy for ever; the give-up is
 * reported. An idle run stays one request.
 */
import { describe, expect, it } from 'vitest';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import {
  afterLookup,
  isDue,
  park,
  UNREADABLE_POLICY,
  type UnreadableRecord,
} from '#domain/detect/unreadable-records.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import type {
  AssetLookupKey,
  EnumerationCursor,
  EnumerationPage,
  EnumerationScope,
  LookedUpAssets,
} from '#ports/asset-source.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const HOUR = 60 * 60 * 1000;

/** The fake library, where CloudKit answers the records named in `unreadable` as error entries. */
class FlakySource extends LibraryAssetSource {
  readonly unreadable = new Set<string>();
  override async enumeratePage(
    ref: ZoneRef,
    cursor?: EnumerationCursor,
    scope?: EnumerationScope,
  ): Promise<EnumerationPage> {
    const page = await super.enumeratePage(ref, cursor, scope);
    const hidden = (c: ZoneChange) => c.type === 'asset' && this.unreadable.has(c.asset.assetRecordName);
    return {
      ...page,
      changes: page.changes.filter((c) => !hidden(c)),
      unreadable: page.changes.flatMap((c) =>
        hidden(c) && c.type === 'asset' ? [c.asset.assetRecordName] : [],
      ),
    };
  }
  override async lookupAssets(ref: ZoneRef, keys: readonly AssetLookupKey[]): Promise<LookedUpAssets> {
    const found = await super.lookupAssets(ref, keys);
    const failing = keys.map((k) => k.assetRecordName).filter((name) => this.unreadable.has(name));
    return {
      ...found,
      assets: found.assets.filter((a) => !this.unreadable.has(a.assetRecordName)),
      unavailable: [
        ...found.unavailable,
        ...failing.map((name) => ({
          assetRecordName: name,
          reason: 'INTERNAL_ERROR (Could not read record)',
        })),
      ],
    };
  }
}

class NamesQueue implements WorkQueue {
  readonly names: string[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    for (const m of messages)
      for (const item of m.items) if (item.type === 'asset') this.names.push(item.asset.assetRecordName);
    return { requested: messages.length, sent: messages.length };
  }
}

function setup() {
  const source = new FlakySource();
  source.addZone(PRIMARY, 6);
  const state = new InMemorySyncStateStore();
  const queue = new NamesQueue();
  let now = 1_750_000_000_000;
  const deps: DetectDeps = {
    source,
    state,
    queue,
    now: () => now,
    remainingMs: () => 10 * 60 * 1000,
    runId: 'run',
    deletePolicy: DEFAULT_DELETE_POLICY,
  };
  return { source, state, queue, deps, advance: (ms: number) => (now += ms) };
}

describe('a record CloudKit answers as an error entry during detection', () => {
  it('does not hold up the zone, and is archived by a later run once it reads', async () => {
    const { source, state, queue, deps } = setup();
    source.unreadable.add('PrimarySync-A2');

    const first = await detectChanges(deps);

    expect(first.outcome).toBe('caughtUp');
    expect(first.zones[0]?.unreadableWaiting).toBe(1);
    expect((await state.loadZone(PRIMARY))?.syncToken).toBeDefined();
    expect(queue.names).not.toContain('PrimarySync-A2');

    source.unreadable.clear();
    source.calls.length = 0;
    const second = await detectChanges(deps);

    expect(second.outcome).toBe('caughtUp');
    expect(queue.names.filter((n) => n === 'PrimarySync-A2')).toHaveLength(1);
    expect(source.calls).toContain('lookupAssets:PrimarySync:1');
    source.calls.length = 0;
    const idle = await detectChanges(deps);
    expect(idle.outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
  });

  it('gives a record that never reads up after the cap, with backoff, and reports it', async () => {
    const { source, deps, advance } = setup();
    source.unreadable.add('PrimarySync-A4');
    await detectChanges(deps);
    const lookups: number[] = [];
    let givenUp: readonly string[] | undefined;
    for (let run = 1; run <= 200 && givenUp === undefined; run++) {
      source.calls.length = 0;
      const result = await detectChanges(deps);
      lookups.push(source.calls.filter((c) => c.startsWith('lookupAssets')).length);
      givenUp = result.zones[0]?.unreadableGivenUp;
      advance(HOUR / 4); // the schedule: every 15 minutes
    }

    expect(givenUp).toEqual(['PrimarySync-A4']);
    expect(lookups.reduce((a, b) => a + b, 0)).toBe(UNREADABLE_POLICY.maxTries);
    // Three quick tries at consecutive runs, then runs with no lookup while the pause lasts.
    expect(lookups.slice(0, 3)).toEqual([1, 1, 1]);
    expect(lookups.slice(3, 7)).toContain(0);
    source.calls.length = 0;
    advance(24 * HOUR);
    expect((await detectChanges(deps)).outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
  });
});

describe('the retry policy of unreadable records', () => {
  it('is due at once for the quick tries, then after a doubling pause capped at the maximum', () => {
    const at = (tries: number): UnreadableRecord => ({ name: 'x', tries, lastTriedAt: 0 });
    expect(isDue({ name: 'x', tries: 0 }, 0)).toBe(true);
    expect(isDue(at(2), 0)).toBe(true);
    expect(isDue(at(3), HOUR - 1)).toBe(false);
    expect(isDue(at(3), HOUR)).toBe(true);
    expect(isDue(at(4), 2 * HOUR - 1)).toBe(false);
    expect(isDue(at(7), 8 * HOUR)).toBe(true);
  });

  it('keeps a bounded list, and a parked name keeps its history', () => {
    const many = Array.from({ length: UNREADABLE_POLICY.maxNames + 2 }, (_, i) => `n${i}`);
    const parked = park([{ name: 'n0', tries: 2, lastTriedAt: 5 }], many);
    expect(parked.waiting).toHaveLength(UNREADABLE_POLICY.maxNames);
    expect(parked.givenUp).toEqual(['n0', 'n1']);
    expect(park([{ name: 'a', tries: 2 }], ['a']).waiting).toEqual([{ name: 'a', tries: 2 }]);
  });

  it('drops what the lookup returned or found gone, and gives up at the cap', () => {
    const waiting: UnreadableRecord[] = [
      { name: 'back', tries: 1 },
      { name: 'still', tries: 1 },
      { name: 'last', tries: UNREADABLE_POLICY.maxTries - 1 },
      { name: 'notDue', tries: 4, lastTriedAt: 9 },
    ];
    const next = afterLookup(waiting, ['back', 'still', 'last'], new Set(['still', 'last']), 100);
    expect(next.waiting).toEqual([
      { name: 'still', tries: 2, lastTriedAt: 100 },
      { name: 'notDue', tries: 4, lastTriedAt: 9 },
    ]);
    expect(next.givenUp).toEqual(['last']);
  });
});
