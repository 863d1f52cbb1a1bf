/**
 * Finding 17 (docs/reliability.md): a photo trashed, hidden or deleted while a walk is under way
 * moves every later rank down by one; paging on by "last start + photos seen" then skipped the
 * photo that slid onto the page already read, and nothing would ever name it again. Over the
 * library fake, which pages by rank as the CloudKit source does (`rank-walk.ts`).
 */
import { describe, expect, it } from 'vitest';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };

class NamingQueue implements WorkQueue {
  readonly names = new Set<string>();
  items = 0;
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    for (const message of messages)
      for (const item of message.items) {
        this.items += 1;
        if (item.type === 'asset') this.names.add(item.asset.assetRecordName);
      }
    return { requested: messages.length, sent: messages.length };
  }
}

function deps(
  source: LibraryAssetSource,
  state: InMemorySyncStateStore,
  queue: WorkQueue,
  run: number,
): DetectDeps {
  return {
    source,
    state,
    queue,
    now: () => 1_750_000_000_000 + run,
    remainingMs: () => 10 * 60 * 1000,
    runId: `run-${run}`,
    deletePolicy: DEFAULT_DELETE_POLICY,
  };
}

/** Runs detection until it is caught up and idle (at most `runs` runs); returns the outcomes. */
async function runUntilIdle(
  source: LibraryAssetSource,
  state: InMemorySyncStateStore,
  queue: NamingQueue,
  runs = 3,
) {
  const outcomes: string[] = [];
  for (let run = 0; run < runs; run++) {
    outcomes.push((await detectChanges(deps(source, state, queue, run))).outcome);
    if (outcomes.at(-1) === 'idle') break;
  }
  return outcomes;
}

const trashed = (asset: Asset): Asset => ({ ...asset, isDeleted: true });

/** Trashes the photos `pick` chooses just before the `page`-th page is served. */
function trashBeforePage(source: LibraryAssetSource, page: number, pick: (library: Asset[]) => Asset[]) {
  let served = 0;
  const gone: string[] = [];
  source.onPage = () => {
    served += 1;
    if (served !== page) return;
    const photos = pick(source.zone('PrimarySync').library);
    gone.push(...photos.map((p) => p.assetRecordName));
    source.change(
      'PrimarySync',
      photos.map((p) => ({ type: 'asset' as const, asset: trashed(p) })),
    );
  };
  return gone;
}

function library(source: LibraryAssetSource): string[] {
  return source.zone('PrimarySync').library.map((a) => a.assetRecordName);
}

describe('a walk while photos leave the index (finding 17)', () => {
  it('archives every photo still in the library when one already read is trashed between two pages', async () => {
    const source = new LibraryAssetSource({ pageSize: 10 });
    source.addZone(PRIMARY, 30);
    const gone = trashBeforePage(source, 2, (lib) => [lib[0] as Asset]);
    const state = new InMemorySyncStateStore();
    const queue = new NamingQueue();

    const outcomes = await runUntilIdle(source, state, queue);

    expect(gone).toEqual(['PrimarySync-A0']);
    expect(outcomes.at(-1)).toBe('idle');
    for (const name of library(source)) expect(queue.names).toContain(name);
    expect(queue.names).toContain('PrimarySync-A10');
  });

  it('archives every photo when more than a page of photos already read leave between two pages', async () => {
    const source = new LibraryAssetSource({ pageSize: 10 });
    source.addZone(PRIMARY, 40);
    trashBeforePage(source, 3, (lib) => lib.slice(2, 15));
    const state = new InMemorySyncStateStore();
    const queue = new NamingQueue();

    const outcomes = await runUntilIdle(source, state, queue);

    expect(outcomes.at(-1)).toBe('idle');
    expect(library(source)).toHaveLength(27);
    for (const name of library(source)) expect(queue.names).toContain(name);
  });

  it('archives every photo when the last photos read (the ones the next page looks for) are trashed', async () => {
    const source = new LibraryAssetSource({ pageSize: 10 });
    source.addZone(PRIMARY, 30);
    trashBeforePage(source, 2, (lib) => lib.slice(5, 10));
    const state = new InMemorySyncStateStore();
    const queue = new NamingQueue();

    const outcomes = await runUntilIdle(source, state, queue);

    expect(outcomes.at(-1)).toBe('idle');
    for (const name of library(source)) expect(queue.names).toContain(name);
  });

  it('archives every photo when photos leave between two runs of a walk that spans runs', async () => {
    let now = 0;
    const source = new LibraryAssetSource({ pageSize: 10, onPage: () => (now += 1000) });
    source.addZone(PRIMARY, 60);
    const state = new InMemorySyncStateStore({ now: () => now });
    const queue = new NamingQueue();
    const outcomes: string[] = [];
    for (let run = 0; run < 12; run++) {
      const deadline = now + 22_500;
      const result = await detectChanges({
        ...deps(source, state, queue, run),
        now: () => now,
        remainingMs: () => deadline - now,
      });
      outcomes.push(result.outcome);
      if (result.outcome === 'idle') break;
      // Between runs: trash the first photo still in the library and a photo near the walk's place.
      if (result.outcome === 'continued') {
        const lib = source.zone('PrimarySync').library;
        const picks = [lib[0], lib[Math.min(lib.length - 1, 12)]].filter((p): p is Asset => p !== undefined);
        source.change(
          'PrimarySync',
          picks.map((p) => ({ type: 'asset' as const, asset: trashed(p) })),
        );
      }
    }

    expect(outcomes[0]).toBe('continued');
    expect(outcomes.at(-1)).toBe('idle');
    for (const name of library(source)) expect(queue.names).toContain(name);
  });

  it('reads a quiet library without a duplicate work item', async () => {
    const source = new LibraryAssetSource({ pageSize: 10 });
    source.addZone(PRIMARY, 95, 7);
    const state = new InMemorySyncStateStore();
    const queue = new NamingQueue();

    expect((await detectChanges(deps(source, state, queue, 0))).outcome).toBe('caughtUp');

    expect(queue.items).toBe(102);
    expect(queue.names.size).toBe(102);
  });
});
