/**
 * The fold settles a photo only once every change the journal holds for it is done, not on its
 * newest item alone. Found by an audit (2026-12-07): a photo made a favourite (a download-free
 * change a worker had not finished) and then added to an album (done first) was folded on the
 * album item, its record written without the favourite and the journal holding the favourite
 * deleted; once the worker finished, nothing was left to fold. In AWS the fold runs at the end of
 * each detection, while the workers are still on that run's messages. A change that never settles
 * holds the photo back no longer than the journal's retention.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { foldCatalog, journalingQueue, readText } from '#app/catalog-upkeep.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { JOURNAL_RETENTION_MS } from '#domain/catalog/catalog-journal.ts';
import { decodeShard, shardKey, shardOf } from '#domain/catalog/catalog-shard.ts';
import { WORK_MESSAGE_VERSION, type WorkItem, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { jpegBytes, photoAsset, RecordingLogger, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

/** A photo served by the CDN, not archived yet, and the bucket, manifest and journalling queue around it. */
function setUp(options: { readonly albumsFromStore?: readonly string[] } = {}) {
  let now = 1_750_000_000_000;
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
  const catalog = {
    state,
    objects,
    logger: new RecordingLogger(),
    now: clock,
    // As in AWS and the local runtime: the photo's albums come from the album store.
    ...(options.albumsFromStore === undefined
      ? {}
      : { albumsOfAssets: async () => () => options.albumsFromStore ?? [] }),
  };
  const asset = photoAsset('fav', 100);
  cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(100, 3));
  return {
    asset,
    /** Detection hands `items` over in one message: journalled, then enqueued. */
    enqueue: async (items: WorkItem[]): Promise<WorkMessage> => {
      const message: WorkMessage = { v: WORK_MESSAGE_VERSION, runId: 'run', issuedAt: now, items };
      await queue.enqueue([message]);
      return message;
    },
    joinAlbum: (): WorkItem => ({
      type: 'albumMembership',
      zone: asset.zone,
      assetRecordName: asset.assetRecordName,
      albumRecordName: 'album-1',
      present: true,
    }),
    work: (message: WorkMessage) => processWorkMessage(archive, message),
    fold: (owner: string) => foldCatalog(catalog, owner),
    advance: (ms: number) => {
      now += ms;
    },
    record: async () => {
      const text = (await readText(objects, shardKey(shardOf(asset)))) ?? '';
      const found = decodeShard(text).find((r) => r.asset === asset.assetRecordName);
      return { status: found?.status, favorite: found?.favorite, albums: found?.albums };
    },
  };
}

/** The photo archived and folded, then one detection run's two changes: made a favourite, added to an album. */
async function favouriteThenAlbum() {
  const setup = setUp();
  const { asset, enqueue, work, fold, advance, joinAlbum } = setup;
  await work(await enqueue([{ type: 'asset', asset }]));
  await fold('run-0');
  advance(1000);
  const favourite = await enqueue([
    { type: 'asset', asset: { ...asset, assetChangeTag: 'a2', isFavorite: true } },
  ]);
  advance(1);
  const joined = await enqueue([joinAlbum()]);
  return { ...setup, favourite, joined };
}

describe('the catalog fold with an older change of a photo still under way', () => {
  it('waits for it, though a newer change of the photo is done, and then records both', async () => {
    const { fold, work, advance, favourite, joined, record } = await favouriteThenAlbum();

    // The album message is done first; the run's fold comes while the favourite's is under way.
    await work(joined);
    const early = await fold('run-1');
    await work(favourite);
    advance(900_000);
    await fold('run-2');

    expect(await record()).toEqual({ status: 'archived', favorite: true, albums: ['album-1'] });
    expect(early).toMatchObject({ assetsFolded: 0, assetsCarried: 1 });
  });

  it('keeps every change not done yet: the newer one, still under way, is waited for too', async () => {
    const { fold, work, advance, favourite, joined, record } = await favouriteThenAlbum();

    await fold('run-1');
    await work(favourite);
    advance(900_000);
    const between = await fold('run-2');
    await work(joined);
    advance(900_000);
    await fold('run-3');

    expect(between).toMatchObject({ assetsFolded: 0, assetsCarried: 1 });
    expect(await record()).toEqual({ status: 'archived', favorite: true, albums: ['album-1'] });
  });

  it('stops waiting for a change that never settles once the journal keeps it no longer', async () => {
    const { fold, work, advance, joined, record } = await favouriteThenAlbum();

    // The favourite's message is given up: its change never reaches the manifest.
    await work(joined);
    const waiting = await fold('run-1');
    advance(JOURNAL_RETENTION_MS + 1);
    const after = await fold('run-2');

    expect(waiting).toMatchObject({ assetsFolded: 0, assetsCarried: 1 });
    expect(await record()).toEqual({ status: 'archived', favorite: false, albums: ['album-1'] });
    expect(after).toMatchObject({ assetsFolded: 1, assetsCarried: 0 });
  });

  it('does not wait for an older album item that reached a worker before the photo had an entry', async () => {
    const { asset, enqueue, joinAlbum, work, fold, advance, record } = setUp();

    // A first sync: the photo's album relation, in another message, is worked on before the photo
    // is archived, so the manifest never lists the album (the album store, which the catalog
    // reads in AWS, does). The photo's own change is done: its record is written now.
    const joined = await enqueue([joinAlbum()]);
    advance(1);
    const archived = await enqueue([{ type: 'asset', asset }]);
    await work(joined);
    await work(archived);
    const folded = await fold('run-1');

    expect(await record()).toEqual({ status: 'archived', favorite: false, albums: [] });
    expect(folded).toMatchObject({ assetsFolded: 1, assetsCarried: 0 });
  });

  it('does not hold the photo back for its newest album item when the albums come from the album store', async () => {
    // A change-feed run: the photo is new and joins an album; the relation's message is worked on
    // before the photo's, so the manifest never lists the album and the album item never settles
    // against it. The catalog takes albums from the album store (which detection wrote before
    // enqueuing): the record is written at the first fold, not held back for the journal's
    // retention (7 days), with the album.
    const { asset, enqueue, joinAlbum, work, fold, advance, record } = setUp({
      albumsFromStore: ['album-1'],
    });
    const archived = await enqueue([{ type: 'asset', asset }]);
    advance(1);
    const joined = await enqueue([joinAlbum()]);
    await work(joined);
    await work(archived);
    const folded = await fold('run-1');

    expect(await record()).toEqual({ status: 'archived', favorite: false, albums: ['album-1'] });
    expect(folded).toMatchObject({ assetsFolded: 1, assetsCarried: 0 });
  });
});
