/**
 * The dry run's view of the state store: a reconciling enumeration's stamps stay in memory and
 * still count, so a dry run after a stale token reports the purges a real run would make
 * without writing a stamp.
 */
import { describe, expect, it } from 'vitest';
import { dryRunState } from '#app/dry-run-state.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };

async function withEntries(names: readonly string[]) {
  const store = new InMemorySyncStateStore();
  for (const name of names) {
    await store.putEntry(
      {
        zone: PRIMARY,
        assetRecordName: name,
        masterRecordName: `M-${name}`,
        assetChangeTag: 'a',
        status: 'archived',
        flags: { isFavorite: false, isHidden: false, isDeleted: false },
        albums: [],
        versions: [],
        deletions: [],
      },
      0,
    );
  }
  return store;
}

describe('dryRunState', () => {
  it('keeps enumeration stamps in memory and filters the unseen pages through them', async () => {
    const store = await withEntries(['A', 'B', 'C']);
    const dry = dryRunState(store);
    await dry.markSeen(PRIMARY, 'g', ['A', 'C']);

    const page = await dry.unseenAssets(PRIMARY, 'g');
    expect(page.assets.map((a) => a.assetRecordName)).toEqual(['B']);
    // The real store saw no stamp.
    expect((await store.unseenAssets(PRIMARY, 'g')).assets).toHaveLength(3);
    expect(store.reconcileCalls.markSeen).toBe(0);
  });
});
