/**
 * The catalog in the bucket over fakes with real semantics: detection's enqueues are journalled,
 * the fold writes a record once the workers have done the work, one small change rewrites one
 * shard, a repeated fold writes nothing, and only one writer folds at a time.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import {
  CATALOG_LOCK,
  CATALOG_SHARDS_AT_ONCE,
  foldCatalog,
  journalingQueue,
  readText,
} from '#app/catalog-upkeep.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { CATALOG_JOURNAL_PREFIX } from '#domain/catalog/catalog-journal.ts';
import { CATALOG_SHARD_PREFIX, decodeShard, shardKey, shardOf } from '#domain/catalog/catalog-shard.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkItem, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { jpegBytes, photoAsset, RecordingLogger, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

const NOW = 1_750_000_000_000;

function setUp() {
  let now = NOW;
  const clock = () => now;
  const state = new InMemorySyncStateStore({ now: clock });
  const objects = new InMemoryObjectStore({ now: clock, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const queue = journalingQueue(new InMemoryWorkQueue(), objects, clock);
  const archive: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: 'keep',
    now: clock,
  };
  const catalog = { state, objects, logger: new RecordingLogger(), now: clock };
  /** Detection hands `items` over: journalled, enqueued, and (unless `pending`) done by a worker. */
  const deliver = async (items: WorkItem[], options: { pending?: boolean } = {}) => {
    const message: WorkMessage = { v: WORK_MESSAGE_VERSION, runId: 'run', issuedAt: now, items };
    await queue.enqueue([message]);
    if (!options.pending) await processWorkMessage(archive, message);
  };
  const serve = (asset: Asset) => {
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(asset.versions[0]?.size ?? 0, 3));
  };
  const shardOfAsset = (asset: Asset) => shardKey(shardOf(asset));
  const records = async (asset: Asset) => decodeShard((await readText(objects, shardOfAsset(asset))) ?? '');
  const advance = (ms: number) => {
    now += ms;
  };
  return { state, objects, catalog, deliver, serve, shardOfAsset, records, advance };
}

const described = (name: string): Asset => ({
  ...photoAsset(name, 100),
  timeZoneOffsetSeconds: -8 * 3600,
  description: {
    title: 'Sunset',
    caption: 'From the pier',
    keywords: ['beach'],
    location: { latitude: 36.6, longitude: -121.9, altitude: 12.5 },
    width: 4032,
    height: 3024,
  },
});

describe('the catalog in the bucket', () => {
  it('writes an archived asset with its facts, versions and hashes, and empties the journal', async () => {
    const { objects, catalog, deliver, serve, records, shardOfAsset } = setUp();
    const asset = described('one');
    serve(asset);

    await deliver([{ type: 'asset', asset }]);
    const result = await foldCatalog(catalog, 'test');

    expect(result).toMatchObject({ outcome: 'folded', assetsFolded: 1, shardsRewritten: 1 });
    expect(await records(asset)).toEqual([
      expect.objectContaining({
        asset: 'asset-one',
        master: 'master-one',
        status: 'archived',
        fileName: 'one.JPG',
        captured: '2023-11-14T14:13:20.000-08:00',
        timeZoneOffsetSeconds: -28800,
        title: 'Sunset',
        caption: 'From the pier',
        keywords: ['beach'],
        location: { latitude: 36.6, longitude: -121.9, altitude: 12.5 },
        width: 4032,
        height: 3024,
        favorite: false,
        versions: [expect.objectContaining({ kind: 'original', size: 100 })],
      }),
    ]);
    expect(objects.keys().filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX))).toEqual([]);
    expect(objects.keys().filter((k) => k.startsWith(CATALOG_SHARD_PREFIX))).toEqual([shardOfAsset(asset)]);
  });

  it('keeps work the workers have not done in the journal and folds it once they have', async () => {
    const { catalog, deliver, serve, records } = setUp();
    const asset = described('later');
    serve(asset);

    await deliver([{ type: 'asset', asset }], { pending: true });
    const early = await foldCatalog(catalog, 'test');
    await deliver([{ type: 'asset', asset }]);
    const late = await foldCatalog(catalog, 'test');

    expect(early).toMatchObject({ outcome: 'folded', assetsFolded: 0, assetsCarried: 1, shardsRewritten: 0 });
    expect(late).toMatchObject({ assetsFolded: 1, assetsCarried: 0, shardsRewritten: 1 });
    expect((await records(asset)).map((r) => r.status)).toEqual(['archived']);
  });

  it('rewrites one shard for a favourite, and keeps the caption the asset record still has', async () => {
    const { catalog, deliver, serve, records, objects } = setUp();
    const assets = ['a', 'b', 'c', 'd', 'e', 'f'].map(described);
    for (const a of assets) serve(a);
    await deliver(assets.map((asset) => ({ type: 'asset', asset })));
    await foldCatalog(catalog, 'test');
    const [first] = assets as [Asset];
    const before = new Map(
      await Promise.all(objects.keys().map(async (k) => [k, await readText(objects, k)] as const)),
    );

    await deliver([
      {
        type: 'assetOnly',
        change: {
          zone: first.zone,
          assetRecordName: first.assetRecordName,
          masterRecordName: first.masterRecordName,
          assetChangeTag: 'a2',
          isFavorite: true,
          isHidden: false,
          isDeleted: false,
          isExpunged: false,
          versions: [],
          description: { title: 'Sunset', keywords: ['beach', 'pier'] },
        },
      },
    ]);
    const result = await foldCatalog(catalog, 'test');

    const changed = [];
    for (const key of objects.keys())
      if ((await readText(objects, key)) !== before.get(key)) changed.push(key);
    expect(result).toMatchObject({ assetsFolded: 1, shardsRewritten: 1 });
    expect(changed).toEqual([shardKey(shardOf(first))]);
    const record = (await records(first)).find((r) => r.asset === first.assetRecordName);
    expect(record).toMatchObject({
      favorite: true,
      title: 'Sunset',
      keywords: ['beach', 'pier'],
      width: 4032,
    });
    expect(record?.caption).toBeUndefined();
  });

  it('writes nothing when a crash made it fold the same journal again', async () => {
    const { catalog, deliver, serve, objects } = setUp();
    const asset = described('again');
    serve(asset);
    await deliver([{ type: 'asset', asset }]);
    const journal = objects.keys().find((k) => k.startsWith(CATALOG_JOURNAL_PREFIX)) ?? '';
    const text = (await readText(objects, journal)) ?? '';
    await foldCatalog(catalog, 'test');

    // The crash: the shard was written, the journal object never deleted.
    await objects.putBytes(journal, Buffer.from(text), { contentType: 'application/json' });
    const again = await foldCatalog(catalog, 'test');

    expect(again).toMatchObject({
      outcome: 'folded',
      assetsFolded: 1,
      shardsRewritten: 0,
      bytesRewritten: 0,
    });
  });

  it('deletes its journal objects in one request per 1,000 keys, none one by one', async () => {
    const { catalog, deliver, serve, objects } = setUp();
    const deletes: string[] = [];
    const batches: (readonly string[])[] = [];
    const deleteOne = objects.delete.bind(objects);
    const deleteMany = objects.deleteMany.bind(objects);
    objects.delete = (key) => {
      deletes.push(key);
      return deleteOne(key);
    };
    objects.deleteMany = (keys) => {
      batches.push(keys);
      return deleteMany(keys);
    };
    for (const name of ['j1', 'j2', 'j3']) {
      const asset = described(name);
      serve(asset);
      await deliver([{ type: 'asset', asset }]);
    }

    await foldCatalog(catalog, 'test');

    expect(deletes).toEqual([]);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(3);
    expect(objects.keys().filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX))).toEqual([]);
  });

  it('keeps the journal objects S3 could not delete, and the next fold writes the same bytes', async () => {
    const { catalog, deliver, serve, objects } = setUp();
    const asset = described('kept');
    serve(asset);
    await deliver([{ type: 'asset', asset }]);
    const deleteMany = objects.deleteMany.bind(objects);
    objects.deleteMany = async () => {
      throw new Error('S3 did not delete 1 of 1 keys');
    };
    await expect(foldCatalog(catalog, 'test')).rejects.toThrow('did not delete');
    expect(objects.keys().filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX))).toHaveLength(1);

    objects.deleteMany = deleteMany;
    expect(await foldCatalog(catalog, 'test')).toMatchObject({ outcome: 'folded', shardsRewritten: 0 });
    expect(objects.keys().filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX))).toEqual([]);
  });

  it('leaves the catalog to the writer that holds its lock', async () => {
    const { catalog, deliver, serve, state } = setUp();
    const asset = described('locked');
    serve(asset);
    await deliver([{ type: 'asset', asset }]);
    await state.acquireLock(CATALOG_LOCK, 'another writer', 60_000);

    const result = await foldCatalog(catalog, 'test');

    expect(result.outcome).toBe('locked');
  });

  it('rewrites several shards at once, a bounded number, and every one of them', async () => {
    const { objects, catalog, deliver, serve, records } = setUp();
    const assets = Array.from({ length: 40 }, (_, i) => described(`s${i}`));
    for (const a of assets) serve(a);
    await deliver(assets.map((asset) => ({ type: 'asset', asset })));
    // Each shard write takes a moment, as a round trip to S3 does: writes that overlap show it.
    let writing = 0;
    let mostAtOnce = 0;
    const slow = Object.create(objects) as typeof objects;
    slow.putBytes = async (key, body, options) => {
      if (!key.startsWith(CATALOG_SHARD_PREFIX)) return objects.putBytes(key, body, options);
      writing++;
      mostAtOnce = Math.max(mostAtOnce, writing);
      try {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return await objects.putBytes(key, body, options);
      } finally {
        writing--;
      }
    };

    const result = await foldCatalog({ ...catalog, objects: slow }, 'test');

    const shards = new Set(assets.map((a) => shardKey(shardOf(a)))).size;
    expect(result).toMatchObject({ outcome: 'folded', assetsFolded: 40, shardsRewritten: shards });
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(CATALOG_SHARDS_AT_ONCE);
    for (const a of assets) expect((await records(a)).map((r) => r.asset)).toContain(a.assetRecordName);
    expect(objects.keys().filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX))).toEqual([]);
  });

  it('reads its journal objects several at once, and lists the shards while the album index is read', async () => {
    const { objects, catalog, deliver, serve, records } = setUp();
    const assets = Array.from({ length: 12 }, (_, i) => described(`j${i}`));
    for (const a of assets) serve(a);
    // One enqueue each: twelve journal objects.
    for (const asset of assets) await deliver([{ type: 'asset', asset }]);
    let reading = 0;
    let mostAtOnce = 0;
    let listingStarted = false;
    const slow = Object.create(objects) as typeof objects;
    slow.getStream = async (key) => {
      if (!key.startsWith(CATALOG_JOURNAL_PREFIX)) return objects.getStream(key);
      reading++;
      mostAtOnce = Math.max(mostAtOnce, reading);
      try {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return await objects.getStream(key);
      } finally {
        reading--;
      }
    };
    slow.list = (prefix) => {
      const listed = objects.list(prefix);
      if (prefix !== CATALOG_SHARD_PREFIX) return listed;
      return (async function* () {
        listingStarted = true;
        yield* listed;
      })();
    };
    let listedWhileIndexRead = false;
    const albumsOfAssets = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      listedWhileIndexRead = listingStarted;
      return () => [];
    };

    const result = await foldCatalog({ ...catalog, objects: slow, albumsOfAssets }, 'test');

    expect(result).toMatchObject({ outcome: 'folded', journalObjects: 12, assetsFolded: 12 });
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(CATALOG_SHARDS_AT_ONCE);
    expect(listedWhileIndexRead).toBe(true);
    for (const a of assets) expect((await records(a)).map((r) => r.asset)).toContain(a.assetRecordName);
    expect(objects.keys().filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX))).toEqual([]);
  });

  it('keeps the journal when a shard cannot be written, and finishes the fold next time', async () => {
    const { objects, catalog, deliver, serve, records } = setUp();
    const assets = Array.from({ length: 20 }, (_, i) => described(`f${i}`));
    for (const a of assets) serve(a);
    await deliver(assets.map((asset) => ({ type: 'asset', asset })));
    const broken = Object.create(objects) as typeof objects;
    let shardWrites = 0;
    broken.putBytes = async (key, body, options) => {
      if (key.startsWith(CATALOG_SHARD_PREFIX) && ++shardWrites === 3) throw new Error('S3 said no');
      return objects.putBytes(key, body, options);
    };

    await expect(foldCatalog({ ...catalog, objects: broken }, 'test')).rejects.toThrow('S3 said no');
    const journal = objects.keys().filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX));
    const again = await foldCatalog(catalog, 'test');

    expect(journal).toHaveLength(1);
    expect(again).toMatchObject({ outcome: 'folded', assetsFolded: 20 });
    for (const a of assets) expect((await records(a)).map((r) => r.asset)).toContain(a.assetRecordName);
  });

  it('records an album membership, reading the manifest in one batch for many assets', async () => {
    const { catalog, deliver, serve, records, state } = setUp();
    const assets = Array.from({ length: 150 }, (_, i) => described(`m${i}`));
    for (const a of assets) serve(a);
    await deliver(assets.map((asset) => ({ type: 'asset', asset })));
    await foldCatalog(catalog, 'test');

    await deliver(
      assets.map((a) => ({
        type: 'albumMembership',
        zone: a.zone,
        assetRecordName: a.assetRecordName,
        albumRecordName: 'album-1',
        present: true,
      })),
    );
    // The fold's reads alone (the workers read the manifest in batches of their own).
    const reads = state.batchReads;
    await foldCatalog(catalog, 'test');

    expect(state.batchReads - reads).toBe(2);
    const [one] = assets as [Asset];
    expect((await records(one)).find((r) => r.asset === one.assetRecordName)?.albums).toEqual(['album-1']);
  });

  it('rewrites the sidecar of a photo leaving a deleted album: the stored one still names it', async () => {
    const { objects, catalog, deliver, serve } = setUp();
    const live = new Set(['album-1']);
    const withSidecars = {
      ...catalog,
      xmpSidecars: true,
      albumNames: async (names: readonly string[]) =>
        new Map(names.filter((n) => live.has(n)).map((n) => [n, 'Trip'] as const)),
    };
    const asset = described('leaving');
    serve(asset);
    await deliver([{ type: 'asset', asset }]);
    const membership = (present: boolean): WorkItem => ({
      type: 'albumMembership',
      zone: asset.zone,
      assetRecordName: asset.assetRecordName,
      albumRecordName: 'album-1',
      present,
    });
    await deliver([membership(true)]);
    await foldCatalog(withSidecars, 'test');
    let key = '';
    for await (const listed of objects.list('library/')) if (!listed.key.endsWith('.xmp')) key = listed.key;
    expect(await readText(objects, `${key}.xmp`)).toContain('<rdf:li>Trip</rdf:li>');

    // The album is deleted: its name is no longer known when its photos leave it.
    live.delete('album-1');
    await deliver([membership(false)]);
    const result = await foldCatalog(withSidecars, 'test');

    expect(result.sidecarsWritten).toBe(1);
    expect(await readText(objects, `${key}.xmp`)).not.toContain('Trip');
  });

  it('keeps the newest caption when older unfinished work is carried past a newer change', async () => {
    const { catalog, deliver, serve, records, advance } = setUp();
    const asset = described('order');
    serve(asset);
    const captioned = (tag: string, title: string): WorkItem => ({
      type: 'assetOnly',
      change: {
        zone: asset.zone,
        assetRecordName: asset.assetRecordName,
        masterRecordName: asset.masterRecordName,
        assetChangeTag: tag,
        isFavorite: false,
        isHidden: false,
        isDeleted: false,
        isExpunged: false,
        versions: [],
        description: { title },
      },
    });
    await deliver([{ type: 'asset', asset }]);
    await foldCatalog(catalog, 'test');

    await deliver([captioned('a2', 'First')], { pending: true });
    advance(1000);
    await foldCatalog(catalog, 'test');
    advance(1000);
    await deliver([captioned('a3', 'Second')]);
    await foldCatalog(catalog, 'test');

    expect((await records(asset)).find((r) => r.asset === asset.assetRecordName)?.title).toBe('Second');
  });
});

/** The in-memory bucket, counting the reads of each key (`getStream`). */
class ReadCountingObjectStore extends InMemoryObjectStore {
  readonly reads: string[] = [];
  override async getStream(key: string) {
    this.reads.push(key);
    return super.getStream(key);
  }
}

describe('the catalog fold reads only shards that exist', () => {
  it('folds assets into new shards with one listing and no shard read, then reads the shards it rewrites', async () => {
    let now = NOW;
    const clock = () => now;
    const state = new InMemorySyncStateStore({ now: clock });
    const objects = new ReadCountingObjectStore({ now: clock, partSize: MIN_PART_SIZE });
    const cdn = new ScriptedCdn();
    const queue = journalingQueue(new InMemoryWorkQueue(), objects, clock);
    const archive: ArchiveDeps = {
      state,
      objects,
      downloader: cdn,
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: clock,
    };
    const catalog = { state, objects, logger: new RecordingLogger(), now: clock };
    const deliver = async (assets: Asset[]) => {
      for (const asset of assets)
        cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(asset.versions[0]?.size ?? 0, 3));
      const message: WorkMessage = {
        v: WORK_MESSAGE_VERSION,
        runId: 'run',
        issuedAt: now,
        items: assets.map((asset) => ({ type: 'asset' as const, asset })),
      };
      await queue.enqueue([message]);
      await processWorkMessage(archive, message);
    };
    const shardReads = () => objects.reads.filter((key) => key.startsWith(CATALOG_SHARD_PREFIX));
    const first = Array.from({ length: 8 }, (_, i) => described(`first-${i}`));
    await deliver(first);

    const folded = await foldCatalog(catalog, 'test');

    expect(folded.shardsRewritten).toBe(new Set(first.map((a) => shardOf(a))).size);
    expect(shardReads()).toEqual([]);

    // Later assets: the shards that exist now are read (their records kept), the others are not.
    now += 1_000;
    objects.reads.length = 0;
    const second = [
      ...first.slice(0, 3).map((a) => ({ ...a, isFavorite: true, assetChangeTag: 'fav' })),
      ...Array.from({ length: 3 }, (_, i) => described(`second-${i}`)),
    ];
    await deliver(second);
    await foldCatalog(catalog, 'test');

    const existing = new Set(first.map((a) => shardKey(shardOf(a))));
    expect(new Set(shardReads())).toEqual(
      new Set(second.map((a) => shardKey(shardOf(a))).filter((key) => existing.has(key))),
    );
    for (const asset of [...first, ...second])
      expect(
        decodeShard((await readText(objects, shardKey(shardOf(asset)))) ?? '').map((r) => r.asset),
      ).toContain(asset.assetRecordName);
  });
});
