/**
 * The detector loads the catalog's fold proper (app/catalog-fold.ts, a bundle of its own beside
 * index.mjs: `LAZY_MODULES`, infra/lambda-bundle.ts) only when the journal holds objects: an idle
 * run, whose journal is empty, lists it and loads nothing more.
 */
import { describe, expect, it, vi } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { foldCatalog, journalingQueue } from '#app/catalog-upkeep.ts';
import { WORK_MESSAGE_VERSION } from '#domain/model/work.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { photoAsset, RecordingLogger } from '#test/handlers/handler-doubles.ts';

/** Whether the fold module was loaded (its first import runs this factory). */
const loaded = vi.hoisted(() => ({ catalogFold: 0 }));
vi.mock('#app/catalog-fold.ts', async (original) => {
  loaded.catalogFold += 1;
  return original();
});

const NOW = 1_750_000_000_000;

describe('the catalog fold on its path alone', () => {
  it('lists an empty journal without loading the fold, and loads it once the journal holds work', async () => {
    const clock = () => NOW;
    const state = new InMemorySyncStateStore({ now: clock });
    const objects = new InMemoryObjectStore({ now: clock, partSize: MIN_PART_SIZE });
    const catalog = { state, objects, logger: new RecordingLogger(), now: clock };

    const idle = await foldCatalog(catalog, 'idle');
    expect(idle.outcome).toBe('nothingToFold');
    expect(loaded.catalogFold).toBe(0);

    const asset = photoAsset('one', 100);
    await journalingQueue(new InMemoryWorkQueue(), objects, clock).enqueue([
      { v: WORK_MESSAGE_VERSION, runId: 'run', issuedAt: NOW, items: [{ type: 'asset', asset }] },
    ]);
    const busy = await foldCatalog(catalog, 'busy');
    // The worker has not archived it yet: carried in the journal, as before the split.
    expect(busy).toMatchObject({ outcome: 'folded', journalObjects: 1, assetsFolded: 0, assetsCarried: 1 });
    expect(loaded.catalogFold).toBe(1);
  });
});
