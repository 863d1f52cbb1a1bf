/**
 * The Shared Albums' object count (each album's `objectCount`, summed by `sharedObjectCount`: the
 * albums' share of the mirror safety stop's total, and what `status` shows) against the objects
 * in the bucket, when one file is used by items of two albums: one object, counted once, under
 * every order of events (an item storing under the key another item claimed, either item's
 * removal under `mirror`, a retry after a crash between the put and the record).
 */
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import { checksumClaim } from '#domain/shared-albums/shared-keys.ts';
import { type StoredSharedItem, sharedObjectCount } from '#domain/shared-albums/state.ts';
import type { PutResult, PutStreamOptions } from '#ports/object-store.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { sampleSharedAlbum as album, sampleSharedItem } from '#test/fakes/shared-album-samples.ts';

/** Where album One's item i1 stores the file both albums show. */
const KEY = 'shared-albums/One/2026-05-03/i1.JPG';
const MIRROR: DeletePolicy = { ...DEFAULT_DELETE_POLICY, mode: 'mirror', maxDeleteFraction: 1 };

const item = (guid: string, checksum: string, fileName?: string) =>
  sampleSharedItem(guid, checksum, fileName === undefined ? {} : { fileName });

/**
 * Once armed, its next put of `KEY` either fails as a reset connection does, storing nothing (a
 * worker that died between its claims and its put, as far as the bucket can tell), or first lets
 * `during` run and then stores (another worker's pass while this put is in flight).
 */
class FirstPutOfKeyStore extends InMemoryObjectStore {
  armed = false;
  during: (() => Promise<unknown>) | undefined;
  override async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult> {
    if (key !== KEY || !this.armed) return super.putStream(key, body, options);
    this.armed = false;
    if (this.during === undefined) {
      body.destroy();
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    await this.during();
    return super.putStream(key, body, options);
  }
}

/** Its first write of item records fails as a throttled DynamoDB request does (retryable). */
class ItemRecordsThrottledOnceStore extends InMemorySharedAlbumStateStore {
  failNext = false;
  override async putItems(albumguid: string, items: readonly StoredSharedItem[]): Promise<void> {
    if (this.failNext && items.length > 0) {
      this.failNext = false;
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ThrottlingException',
        $retryable: { throttling: true },
      });
    }
    return super.putItems(albumguid, items);
  }
}

function setup(deletePolicy: DeletePolicy = DEFAULT_DELETE_POLICY) {
  const source = new ListedSharedAlbumSource();
  const objects = new FirstPutOfKeyStore();
  const state = new InMemorySyncStateStore();
  const sharedState = new ItemRecordsThrottledOnceStore();
  const downloader = new ByteServingDownloader();
  const one = album('A', 'One');
  const two = album('B', 'Two');
  const run = (a: SharedAlbum) =>
    archiveSharedAlbum(
      { source, sharedState, state, objects, downloader, deletePolicy, comments: false, now: () => 5 },
      a,
      false,
    );
  /** What the albums count, and the files the bucket holds under `shared-albums/`. */
  const figures = async () => {
    const files: string[] = [];
    for await (const o of objects.list('shared-albums/'))
      if (!o.key.endsWith('/album.json')) files.push(o.key);
    return { counted: sharedObjectCount(await sharedState.loadAlbums()), inBucket: files.length };
  };
  return { source, objects, state, sharedState, downloader, one, two, run, figures };
}

/** One's i1 dies before its file is stored; Two's j1 (the same file) stores it under i1's key; i1's retry. */
async function takeOver(s: ReturnType<typeof setup>) {
  s.source.put(s.one, [item('i1', 'same')]);
  s.source.put(s.two, [item('j1', 'same')]);
  s.objects.armed = true;
  await expect(s.run(s.one)).rejects.toThrow('socket hang up');
  const byTwo = await s.run(s.two);
  expect(await s.objects.head(KEY)).toBeDefined();
  const retry = await s.run(s.one);
  return [byTwo, retry];
}

describe('the Shared Albums object count', () => {
  it('counts once a file another album stored under the key an item claimed, after that item retries', async () => {
    const s = setup();

    const results = await takeOver(s);

    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
    expect(results.reduce((n, r) => n + r.stored, 0)).toBe(1);
    expect(results.reduce((n, r) => n + r.referenced, 0)).toBe(1);
  });

  it('counts once a file another album stored while the claiming item was still putting it', async () => {
    const s = setup();
    s.source.put(s.one, [item('i1', 'same')]);
    s.source.put(s.two, [item('j1', 'same')]);
    let byTwo: Awaited<ReturnType<typeof s.run>> | undefined;
    s.objects.armed = true;
    s.objects.during = async () => {
      byTwo = await s.run(s.two);
    };

    const byOne = await s.run(s.one);

    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
    expect(byOne.stored + (byTwo?.stored ?? 0)).toBe(1);
  });

  it('counts once when the item that stored under the claimed key died before its record, and retried', async () => {
    const s = setup();
    s.source.put(s.one, [item('i1', 'same')]);
    s.source.put(s.two, [item('j1', 'same')]);
    s.objects.armed = true;
    await expect(s.run(s.one)).rejects.toThrow('socket hang up');
    s.sharedState.failNext = true;
    await expect(s.run(s.two)).rejects.toThrow('Rate of requests');

    await s.run(s.two);
    await s.run(s.one);

    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
  });

  it.each([
    ['One first', ['A', 'B']],
    ['Two first', ['B', 'A']],
  ])('under mirror follows the bucket as either item is removed (%s)', async (_, order) => {
    const s = setup(MIRROR);
    s.source.put(s.one, [item('i1', 'same')]);
    s.source.put(s.two, [item('j1', 'same')]);
    await s.run(s.one);
    await s.run(s.two);
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
    const first = order[0] === 'A' ? s.one : s.two;
    const second = order[0] === 'A' ? s.two : s.one;

    s.source.put(first, []);
    await s.run({ ...first, ctag: '2' });
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
    s.source.put(second, []);
    await s.run({ ...second, ctag: '2' });

    expect(await s.figures()).toEqual({ counted: 0, inBucket: 0 });
  });

  it.each([
    ['One first', ['A', 'B']],
    ['Two first', ['B', 'A']],
  ])('under mirror follows the bucket as either item of a take-over is removed (%s)', async (_, order) => {
    const s = setup(MIRROR);
    await takeOver(s);
    const first = order[0] === 'A' ? s.one : s.two;
    const second = order[0] === 'A' ? s.two : s.one;

    s.source.put(first, []);
    await s.run({ ...first, ctag: '2' });
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
    s.source.put(second, []);
    await s.run({ ...second, ctag: '2' });

    expect(await s.figures()).toEqual({ counted: 0, inBucket: 0 });
  });

  it('counts once an item shared again after mirror deleted its file, in the same album or another', async () => {
    const s = setup(MIRROR);
    s.source.put(s.one, [item('i1', 'same')]);
    await s.run(s.one);
    s.source.put(s.one, []);
    await s.run({ ...s.one, ctag: '2' });
    expect(await s.figures()).toEqual({ counted: 0, inBucket: 0 });

    // Posted again: a new item of the same file and name.
    s.source.put(s.one, [item('i2', 'same', 'i1.JPG')]);
    await s.run({ ...s.one, ctag: '3' });
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
    s.source.put(s.two, [item('j1', 'same')]);
    await s.run(s.two);

    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
  });

  it('counts once a file shared again whose checksum still names the key of an object mirror deleted before', async () => {
    const s = setup(MIRROR);
    const same = item('j1', 'same');
    s.source.put(s.one, [item('i1', 'same')]);
    await s.run(s.one);
    s.source.put(s.one, []);
    await s.run({ ...s.one, ctag: '2' });
    // Deleted by an earlier version, which left the checksum's claim naming the deleted object's key.
    await s.state.claimKey(checksumClaim(same.rendition.fileChecksum), KEY);

    s.source.put(s.two, [same]);
    const result = await s.run(s.two);

    expect(result).toMatchObject({ stored: 1, referenced: 0 });
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
    s.source.put(s.two, []);
    await s.run({ ...s.two, ctag: '2' });
    expect(await s.figures()).toEqual({ counted: 0, inBucket: 0 });
  });
});
