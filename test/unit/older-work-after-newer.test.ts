/**
 * Two work messages about one asset in flight at once, the older one done last (its first delivery
 * failed and SQS handed it back after the next run's message was done, or two workers raced): the
 * older change must not overwrite the newer one in the manifest, nor bring back a purged photo.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { foldCatalog, journalingQueue, readText } from '#app/catalog-upkeep.ts';
import { viewItem } from '#domain/albums/album-view.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { decodeShard, shardKey, shardOf } from '#domain/catalog/catalog-shard.ts';
import type { Asset, AssetOnlyChange } from '#domain/model/asset.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { jpegBytes, RecordingLogger, ScriptedCdn } from '#test/handlers/handler-doubles.ts';
import { base, edited, editedPhotoArchive, MIN, message, ref, T0 } from '#test/helpers/edited-photo.ts';

/** A state store that lets another worker write first, just before its next entry write. */
class RacedStateStore extends InMemorySyncStateStore {
  before: (() => Promise<void>) | undefined;
  async #before() {
    const run = this.before;
    this.before = undefined;
    await run?.();
  }
  override async putEntry(...args: Parameters<InMemorySyncStateStore['putEntry']>) {
    await this.#before();
    return super.putEntry(...args);
  }
  override async putEntries(...args: Parameters<InMemorySyncStateStore['putEntries']>) {
    await this.#before();
    return super.putEntries(...args);
  }
}

function setUp(deletePolicy: 'keep' | 'mirror' = 'keep') {
  return editedPhotoArchive({ state: (now) => new RacedStateStore({ now }), deletePolicy });
}

function change(tag: string, flags: Partial<AssetOnlyChange>): AssetOnlyChange {
  return {
    zone: base.zone,
    assetRecordName: base.assetRecordName,
    masterRecordName: base.masterRecordName,
    assetChangeTag: tag,
    isFavorite: false,
    isHidden: false,
    isDeleted: false,
    isExpunged: false,
    versions: [],
    ...flags,
  };
}

describe('an older work message done after a newer one', () => {
  it('a trash then a restore, the trash done last, leaves the photo restored', async () => {
    const { deps, state, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    // Run 2 (T0+15 min): the photo was trashed; its message's delivery fails and is retried later.
    const trash = message(T0 + 15 * MIN, [{ type: 'assetOnly', change: change('a2', { isDeleted: true }) }]);
    // Run 3 (T0+30 min): restored; this message is done first.
    const restore = message(T0 + 30 * MIN, [{ type: 'assetOnly', change: change('a3', {}) }]);
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, restore);
    at(T0 + 32 * MIN);
    await processWorkMessage(deps, trash);

    const entry = await state.getEntry(ref);
    // iCloud's newest: restored, change tag a3.
    expect({ status: entry?.status, tag: entry?.assetChangeTag }).toEqual({ status: 'archived', tag: 'a3' });
  });

  it('a favourite then an unfavourite (full asset items), the favourite done last, leaves it unfavoured', async () => {
    const { deps, state, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    const fav: Asset = { ...base, assetChangeTag: 'a2', isFavorite: true };
    const unfav: Asset = { ...base, assetChangeTag: 'a3', isFavorite: false };
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, message(T0 + 30 * MIN, [{ type: 'asset', asset: unfav }]));
    at(T0 + 32 * MIN);
    await processWorkMessage(deps, message(T0 + 15 * MIN, [{ type: 'asset', asset: fav }]));

    const entry = await state.getEntry(ref);
    expect({ favorite: entry?.flags.isFavorite, tag: entry?.assetChangeTag }).toEqual({
      favorite: false,
      tag: 'a3',
    });
  });
  it('two workers at once: the older, re-reading the entry after losing the race, leaves the newer state', async () => {
    const { deps, state, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    at(T0 + 31 * MIN);
    // Run 2's trash is about to write its entry when run 3's restore, in another worker, writes first.
    state.before = async () => {
      await processWorkMessage(
        deps,
        message(T0 + 30 * MIN, [{ type: 'assetOnly', change: change('a3', {}) }]),
      );
    };
    await processWorkMessage(
      deps,
      message(T0 + 15 * MIN, [{ type: 'assetOnly', change: change('a2', { isDeleted: true }) }]),
    );

    const entry = await state.getEntry(ref);
    expect({ status: entry?.status, deleted: entry?.flags.isDeleted, tag: entry?.assetChangeTag }).toEqual({
      status: 'archived',
      deleted: false,
      tag: 'a3',
    });
  });

  it("an older edit done after a newer one is stored, listed, and not the album views' current edit", async () => {
    const { deps, state, objects, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, message(T0 + 30 * MIN, [{ type: 'asset', asset: edited('a3', 'E2') }]));
    at(T0 + 32 * MIN);
    await processWorkMessage(deps, message(T0 + 15 * MIN, [{ type: 'asset', asset: edited('a2', 'E1') }]));

    const entry = await state.getEntry(ref);
    const keyOf = (checksum: string) => entry?.versions.find((v) => v.fileChecksum === checksum)?.key;
    const stored = objects.keys().filter((key) => key.includes('-edited'));
    expect({
      adjusted: entry === undefined ? undefined : viewItem(entry)?.versions['adjusted'],
      tag: entry?.assetChangeTag,
      stored,
    }).toEqual({ adjusted: keyOf('E2'), tag: 'a3', stored: [keyOf('E1'), keyOf('E2')].sort() });
  });

  it("a message issued in the worker's future (a skewed clock) counts as issued when it is done", async () => {
    const { deps, state, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    at(T0 + 16 * MIN);
    // A repair from a machine whose clock runs an hour ahead.
    await processWorkMessage(
      deps,
      message(T0 + 75 * MIN, [{ type: 'assetOnly', change: change('a2', { isFavorite: true }) }]),
    );
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, message(T0 + 30 * MIN, [{ type: 'assetOnly', change: change('a3', {}) }]));

    const entry = await state.getEntry(ref);
    expect({ favorite: entry?.flags.isFavorite, tag: entry?.assetChangeTag }).toEqual({
      favorite: false,
      tag: 'a3',
    });
  });

  it('an older asset item done after the purge leaves the photo purged', async () => {
    const { deps, state, at } = setUp();
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    const fav: Asset = { ...base, assetChangeTag: 'a2', isFavorite: true };
    at(T0 + 31 * MIN);
    // Run 3: the photo was deleted and Recently Deleted emptied: its tombstone is done first.
    await processWorkMessage(
      deps,
      message(T0 + 30 * MIN, [
        { type: 'tombstone', zone: base.zone, recordName: base.assetRecordName, inferredType: 'CPLAsset' },
      ]),
    );
    expect((await state.getEntry(ref))?.status).toBe('purged');
    at(T0 + 32 * MIN);
    // Run 2's favourite, retried after it.
    await processWorkMessage(deps, message(T0 + 15 * MIN, [{ type: 'asset', asset: fav }]));

    expect((await state.getEntry(ref))?.status).toBe('purged');
  });
  it('under mirror, an older asset item done after the purge stores nothing again', async () => {
    const { deps, state, objects, at } = setUp('mirror');
    await processWorkMessage(deps, message(T0, [{ type: 'asset', asset: base }]));
    const fav: Asset = { ...base, assetChangeTag: 'a2', isFavorite: true };
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, {
      // Queued by a mirror detection (a message without the mode counts as keep).
      ...message(T0 + 30 * MIN, [
        { type: 'tombstone', zone: base.zone, recordName: base.assetRecordName, inferredType: 'CPLAsset' },
      ]),
      deleteMode: 'mirror',
    });
    expect(objects.keys()).toEqual([]);
    at(T0 + 32 * MIN);
    await processWorkMessage(deps, message(T0 + 15 * MIN, [{ type: 'asset', asset: fav }]));

    expect({ status: (await state.getEntry(ref))?.status, objects: objects.keys() }).toEqual({
      status: 'purged',
      objects: [],
    });
  });
});

describe('the catalog after an older work message done after a newer one', () => {
  it('folds the newest state at once, not the older one after the journal’s wait', async () => {
    let now = T0;
    const clock = () => now;
    const state = new InMemorySyncStateStore({ now: clock });
    const objects = new InMemoryObjectStore({ now: clock, partSize: MIN_PART_SIZE });
    const cdn = new ScriptedCdn();
    cdn.files.set(base.versions[0]?.downloadUrl ?? '', jpegBytes(200, 3));
    const queue = journalingQueue(new InMemoryWorkQueue(), objects, clock);
    const deps: ArchiveDeps = {
      state,
      objects,
      downloader: cdn,
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: clock,
    };
    const catalog = { state, objects, logger: new RecordingLogger(), now: clock };
    const enqueue = async (asset: Asset) => {
      const sent = message(now, [{ type: 'asset', asset }]);
      await queue.enqueue([sent]);
      return sent;
    };
    await processWorkMessage(deps, await enqueue(base));
    await foldCatalog(catalog, 'run-1');
    now += 15 * MIN;
    const trash = await enqueue({ ...base, assetChangeTag: 'a2', isDeleted: true });
    now += 15 * MIN;
    const restore = await enqueue({ ...base, assetChangeTag: 'a3', isFavorite: true });
    await processWorkMessage(deps, restore);
    await processWorkMessage(deps, trash);
    const folded = await foldCatalog(catalog, 'run-3');

    const text = (await readText(objects, shardKey(shardOf(base)))) ?? '';
    const record = decodeShard(text).find((r) => r.asset === base.assetRecordName);
    expect({ folded: folded.assetsFolded, status: record?.status, favorite: record?.favorite }).toEqual({
      folded: 1,
      status: 'archived',
      favorite: true,
    });
  });
});
