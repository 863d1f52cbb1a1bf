/**
 * Issue 14's first "done when", read from the bucket alone: a library with albums in folders inside
 * folders syncs with XMP sidecars on, and the album views and the catalog equal the simulator's
 * ground truth (albums, folders, names, members in album order; one catalog record per asset with
 * its albums and its archived versions, hashes checked against the objects). Then each album change
 * (create, rename, move, delete, add a photo, remove a photo) costs at most two detection requests
 * and rewrites exactly the affected views, catalog shards and sidecars: every other object keeps its
 * ETag and LastModified. The catalog folds at the end of the same local sync, so no shard trails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardKey, shardOf } from '#domain/catalog/catalog-shard.ts';
import { sidecarKeyOf } from '#domain/catalog/xmp-sidecar.ts';
import { sanitizeSegment } from '#domain/plan/sanitize.ts';
import type { GroundTruthAlbum } from '#simulator/src/library/index.ts';
import { type BucketContents, readBucketContents, rewrittenKeys } from '#test/helpers/bucket-contents.ts';
import {
  detectionRequests,
  type PipelineHarness,
  startPipelineHarness,
  type TruthAssetDetail,
} from '#test/helpers/pipeline-harness.ts';

let h: PipelineHarness;
const sync = () => h.sync({ xmpSidecars: true });

async function liveAlbums(): Promise<Map<string, GroundTruthAlbum>> {
  const reply = await fetch(`${h.sim.controlUrl}/library/albums`);
  const { albums } = (await reply.json()) as { albums: GroundTruthAlbum[] };
  return new Map(albums.filter((a) => !a.sentinel && !a.deleted).map((a) => [a.recordName, a]));
}

function foldersOf(album: GroundTruthAlbum, all: ReadonlyMap<string, GroundTruthAlbum>): string[] {
  const names: string[] = [];
  for (let p = album.parentRecordName; p !== null; p = all.get(p)?.parentRecordName ?? null) {
    names.unshift(all.get(p)?.name ?? '');
  }
  return names;
}

const ref = (a: TruthAssetDetail) => ({
  zone: { database: 'private', zoneName: a.zone },
  assetRecordName: a.assetRecordName,
});
const shardOfAsset = (a: TruthAssetDetail) => shardKey(shardOf(ref(a)));

/** The bucket's views and catalog equal the simulator's truth; returns what was read. */
async function expectBucketEqualsTruth(): Promise<BucketContents> {
  const bucket = await readBucketContents(h.dataDir);
  const albums = await liveAlbums();
  // Every zone of the library (the Shared Library's too); the views show each asset not in
  // Recently Deleted, the catalog those too (archived as trashed: reliability finding 100).
  const library = await h.truth();
  const live = library.filter((a) => !a.isDeleted);

  // The catalog: one record per asset, its albums, each version equal to the object it names.
  const records = new Map(bucket.records.map((r) => [r.asset, r]));
  expect(bucket.records).toHaveLength(records.size);
  expect([...records.keys()].sort()).toEqual(library.map((a) => a.assetRecordName).sort());
  for (const asset of library) {
    const record = records.get(asset.assetRecordName)!;
    expect(shardOfAsset(asset), asset.assetRecordName).toBe(
      [...bucket.shards].find(([, rs]) => rs.includes(record))?.[0],
    );
    expect(record.master).toBe(asset.masterRecordName);
    expect(record.status).toBe(asset.isDeleted ? 'trashed' : 'archived');
    expect(record.favorite).toBe(asset.isFavorite);
    expect(record.hidden).toBe(asset.isHidden);
    // A photo in Recently Deleted is in no album view, nor in the catalog's albums.
    expect(record.albums, `albums of ${asset.assetRecordName}`).toEqual(
      asset.isDeleted ? [] : [...asset.albumRecordNames].sort(),
    );
    const truthDigests = new Set(asset.versions.map((v) => v.sha256));
    expect(record.versions.length).toBeGreaterThan(0);
    for (const version of record.versions) {
      const object = bucket.objects.get(version.key);
      expect(object, version.key).toBeDefined();
      expect(version.size).toBe(object?.size);
      expect(version.sha256).toBe(object?.metadata['icloud-sha256']);
      expect(version.md5).toBe(object?.etag); // single-part objects: the ETag is the MD5
      expect(truthDigests.has(version.sha256)).toBe(true);
    }
    // Sidecars on: one beside each original, naming its albums.
    const original = record.versions.find((v) => v.kind === 'original');
    if (original !== undefined) expect(bucket.sidecars.has(sidecarKeyOf(original.key))).toBe(true);
  }
  // One per original object (two assets sharing a master share its original and its sidecar).
  const originals = bucket.records.flatMap((r) => r.versions.filter((v) => v.kind === 'original'));
  expect([...bucket.sidecars.keys()].sort()).toEqual(
    [...new Set(originals.map((v) => sidecarKeyOf(v.key)))].sort(),
  );

  // The views: one per album, at its folders' path, with its members in album order.
  const shown = new Set(live.filter((a) => !a.isHidden).map((a) => a.assetRecordName));
  const byRecord = new Map([...bucket.views].map(([key, view]) => [view.recordName, { key, view }]));
  const truthAlbums = [...albums.values()].filter((a) => a.albumType === 0);
  expect(bucket.views.size).toBe(truthAlbums.length);
  expect(bucket.playlists.size).toBe(truthAlbums.length);
  for (const album of truthAlbums) {
    const found = byRecord.get(album.recordName);
    expect(found, `view of ${album.name}`).toBeDefined();
    const folders = foldersOf(album, albums);
    // Canonically equal: an NFD name is kept as its NFC twin (test/e2e/pipeline-albums.test.ts).
    const nfc = (text: string | null | undefined) => text?.normalize('NFC');
    expect(nfc(found?.view.name)).toBe(nfc(album.name));
    expect(found?.view.folders.map(nfc)).toEqual(folders.map(nfc));
    // Under its folders; each segment safe as object keys are (name twins and empty names differ).
    const path = ['albums', ...folders.map((f) => sanitizeSegment(f))].join('/');
    expect(found?.key.startsWith(`${path}/`)).toBe(true);
    for (const segment of found?.key.split('/') ?? []) expect(sanitizeSegment(segment)).toBe(segment);
    expect(found?.key.slice(path.length + 1)).not.toContain('/');
    const members = album.members.map((m) => m.assetRecordName).filter((m) => shown.has(m));
    expect(found?.view.items.map((i) => i.assetRecordName)).toEqual(members);
    for (const item of found?.view.items ?? []) {
      expect(Object.values(item.versions).sort()).toEqual(
        records
          .get(item.assetRecordName)
          ?.versions.map((v) => v.key)
          .sort(),
      );
    }
  }
  return bucket;
}

const viewKeys = (...paths: string[]) => paths.flatMap((p) => [`albums/${p}.json`, `albums/${p}.m3u8`]);

async function photo(index: number): Promise<TruthAssetDetail> {
  const photos = (await h.truth()).filter(
    (a) => a.zone === 'PrimarySync' && a.zoneOwner === 'owner' && !a.isDeleted && !a.isHidden,
  );
  return photos[index]!;
}

/** Mutates, syncs with sidecars on; checks the cost and the truth; returns the keys written. */
async function change(mutation: Record<string, unknown>): Promise<string[]> {
  const before = await readBucketContents(h.dataDir);
  await h.mutate(mutation);
  await h.control.resetStats();
  const summary = await sync();
  const stats = await h.control.stats();
  expect(summary.outcome).toBe('succeeded');
  expect(detectionRequests(stats)).toBeLessThanOrEqual(2);
  expect(stats.requests['cdn'] ?? 0).toBe(0);
  const after = await expectBucketEqualsTruth();
  return rewrittenKeys(before, after);
}

/** The shard and sidecar of each asset. */
async function recordKeys(...assets: TruthAssetDetail[]): Promise<string[]> {
  const bucket = await readBucketContents(h.dataDir);
  return assets.flatMap((a) => {
    const record = bucket.records.find((r) => r.asset === a.assetRecordName);
    const original = record?.versions.find((v) => v.kind === 'original');
    return [shardOfAsset(a), ...(original === undefined ? [] : [sidecarKeyOf(original.key)])];
  });
}

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 30, seed: 14 });
  // Folders inside folders, made before the first sync: only the album walk finds them.
  await h.mutate({ op: 'create-album', name: 'Reisen', folder: true });
  await h.mutate({ op: 'create-album', name: '2024', folder: true, parent: 'Reisen' });
  await h.mutate({ op: 'create-album', name: 'Portugal', folder: true, parent: '2024' });
  await h.mutate({ op: 'create-album', name: 'Lissabon', parent: 'Portugal' });
  await h.mutate({ op: 'create-album', name: 'Porto', parent: 'Portugal' });
  await h.mutate({ op: 'create-album', name: 'Wandern', parent: 'Reisen' });
  for (const i of [3, 0, 5, 1]) {
    await h.mutate({ op: 'album-add', assetRecordName: (await photo(i)).assetRecordName, album: 'Lissabon' });
  }
  for (const i of [5, 7]) {
    await h.mutate({ op: 'album-add', assetRecordName: (await photo(i)).assetRecordName, album: 'Porto' });
  }
  await h.mutate({ op: 'album-add', assetRecordName: (await photo(8)).assetRecordName, album: 'Wandern' });
  const first = await sync();
  expect(first.outcome).toBe('succeeded');
});

afterAll(async () => {
  await h?.stop();
});

describe('a library with nested albums, synced with XMP sidecars on', () => {
  it('has album views and a catalog in the bucket equal to the simulator’s ground truth', async () => {
    const bucket = await expectBucketEqualsTruth();
    expect([...bucket.views.keys()]).toContain('albums/Reisen/2024/Portugal/Lissabon.json');
    expect(bucket.views.get('albums/Reisen/2024/Portugal/Lissabon.json')?.items).toHaveLength(4);
  });

  it('an idle run asks once and rewrites nothing', async () => {
    const before = await readBucketContents(h.dataDir);
    const { summary, stats } = await h.measuredSync({ xmpSidecars: true });
    expect(summary.outcome).toBe('idle');
    expect(detectionRequests(stats)).toBe(1);
    expect(rewrittenKeys(before, await readBucketContents(h.dataDir))).toEqual([]);
  });
});

describe('each album change rewrites exactly what it affects', () => {
  it('create: the new album’s view, nothing else', async () => {
    expect(await change({ op: 'create-album', name: 'Algarve', parent: 'Portugal' })).toEqual(
      viewKeys('Reisen/2024/Portugal/Algarve'),
    );
  });

  it('add a photo: the album’s view, the photo’s shard and its sidecar', async () => {
    const added = await photo(10);
    const written = await change({
      op: 'album-add',
      assetRecordName: added.assetRecordName,
      album: 'Algarve',
    });
    expect(written).toEqual(
      [...viewKeys('Reisen/2024/Portugal/Algarve'), ...(await recordKeys(added))].sort(),
    );
    const sidecar = (await recordKeys(added)).find((k) => k.endsWith('.xmp'))!;
    expect((await readBucketContents(h.dataDir)).sidecars.get(sidecar)).toContain('<rdf:li>Algarve</rdf:li>');
  });

  it('remove a photo: the album’s view, the photo’s shard and its sidecar', async () => {
    const removed = await photo(0);
    const written = await change({
      op: 'album-remove',
      assetRecordName: removed.assetRecordName,
      album: 'Lissabon',
    });
    expect(written).toEqual(
      [...viewKeys('Reisen/2024/Portugal/Lissabon'), ...(await recordKeys(removed))].sort(),
    );
  });

  it('rename a folder: every view inside it moves; records name albums by record name, so no shard', async () => {
    expect(await change({ op: 'rename-album', album: 'Portugal', name: 'Portugal 2024' })).toEqual(
      viewKeys(
        'Reisen/2024/Portugal 2024/Algarve',
        'Reisen/2024/Portugal 2024/Lissabon',
        'Reisen/2024/Portugal 2024/Porto',
        'Reisen/2024/Portugal/Algarve',
        'Reisen/2024/Portugal/Lissabon',
        'Reisen/2024/Portugal/Porto',
      ).sort(),
    );
  });

  it('rename an album: its view moves, nothing else', async () => {
    expect(await change({ op: 'rename-album', album: 'Porto', name: 'Porto e Douro' })).toEqual(
      viewKeys('Reisen/2024/Portugal 2024/Porto e Douro', 'Reisen/2024/Portugal 2024/Porto').sort(),
    );
  });

  it('move an album to another folder: its view moves, nothing else', async () => {
    expect(await change({ op: 'move-album', album: 'Wandern', parent: '2024' })).toEqual(
      viewKeys('Reisen/2024/Wandern', 'Reisen/Wandern').sort(),
    );
  });

  it('delete an album: its view goes, and its photos’ shards and sidecars lose it', async () => {
    const album = [...(await liveAlbums()).values()].find((a) => a.name === 'Porto e Douro')!;
    const members = (await h.truth()).filter((a) =>
      album.members.some((m) => m.assetRecordName === a.assetRecordName),
    );
    expect(members.length).toBeGreaterThan(0);
    const affected = await recordKeys(...members);
    const written = await change({ op: 'delete-album', album: album.recordName });
    expect(written).toEqual(
      [...new Set([...viewKeys('Reisen/2024/Portugal 2024/Porto e Douro'), ...affected])].sort(),
    );
    // The photos' sidecars no longer name it among their keywords.
    const bucket = await readBucketContents(h.dataDir);
    for (const key of affected.filter((k) => k.endsWith('.xmp'))) {
      expect(bucket.sidecars.get(key)).not.toContain('Porto');
    }
  });
});
