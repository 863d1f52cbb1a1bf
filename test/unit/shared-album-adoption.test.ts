/**
 * A Shared Album item over one part whose put failed after CompleteMultipartUpload under `keep`
 * (the take-back's delete refused): the staged version, or a corrupt copy, stays current with the
 * item's Apple checksum in its metadata. The retry must not record the item stored over it: it
 * adopts an object only when it is whole and verified (size, SHA-256, MD5), as the library does.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { SHA256_METADATA_KEY } from '#domain/archive/archive-asset.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import type { ArchivingObjectStore } from '#ports/object-store.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LateFailureKeptObjectStore, type LeftBehind } from '#test/fakes/late-failure-kept-object-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

/** Two parts: the S3 store sends it as a multipart upload. */
const SIZE = MIN_PART_SIZE + 1000;
const KEY = 'shared-albums/Family/2026-05-03/v1.MOV';

const album = (guid: string, name: string): SharedAlbum => ({
  albumguid: guid,
  name,
  location: `https://p101-sharedstreams.icloud.com:443/${guid}/sharedstreams/`,
  ctag: '1',
  ownerDsid: '100',
  sharingType: 'subscribed',
  isPublic: false,
});

const video = (guid: string, size = SIZE): SharedItem => ({
  assetGuid: guid,
  masterRecordName: `M-${guid}`,
  changeTag: 'b0',
  fileName: 'v1.MOV',
  addedDate: Date.UTC(2026, 4, 3),
  captureDate: Date.UTC(2026, 4, 3, 12),
  rendition: {
    field: 'resVidMedRes',
    downloadUrl: `https://cdn.test/video?size=${size}`,
    fileChecksum: Buffer.from('video-checksum-0000000').toString('base64'),
    size,
    uti: 'com.apple.quicktime-movie',
  },
  likeCount: 0,
});

/** The bytes the CDN serves for the video (ByteServingDownloader's). */
const served = Buffer.alloc(SIZE, '/video');
const hex = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');

/** A worker over `objects`; given the `state` and `source` of another, a pass whose item records were lost. */
function setup(
  objects: ArchivingObjectStore & InMemoryObjectStore,
  state = new InMemorySyncStateStore(),
  source = new ListedSharedAlbumSource(),
) {
  const sharedState = new InMemorySharedAlbumStateStore();
  const downloader = new ByteServingDownloader();
  const run = (a: SharedAlbum) =>
    archiveSharedAlbum(
      {
        source,
        sharedState,
        state,
        objects,
        downloader,
        deletePolicy: DEFAULT_DELETE_POLICY,
        comments: false,
        now: () => 5,
      },
      a,
      false,
    );
  return { source, sharedState, state, downloader, objects, run };
}

const failingOnce = (leave: LeftBehind) =>
  new LateFailureKeptObjectStore(leave, (key) => key === KEY, { partSize: MIN_PART_SIZE });

async function bytesOf(objects: InMemoryObjectStore, key: string): Promise<Buffer> {
  const got = await objects.getStream(key);
  return Buffer.concat((await got?.body.toArray()) ?? []);
}

describe('a shared item whose put failed after completion under keep', () => {
  it.each<[LeftBehind, string]>([
    ['staged', 'the deadline or the lease aborted it: the staged version, up-front metadata only'],
    ['corrupt-unmarked', 'S3 stored other bytes: the corrupt copy, staged again'],
    ['corrupt-kept', 'S3 stored other bytes and staging the copy again failed: it keeps the late metadata'],
  ])('is downloaded again on the retry, not adopted (%s: %s)', async (leave) => {
    const s = setup(failingOnce(leave));
    const a = album('A', 'Family');
    s.source.put(a, [video('v1')]);
    await expect(s.run(a)).rejects.toThrow();

    const retry = await s.run(a);

    expect(retry).toMatchObject({ stored: 1, failures: [] });
    expect(s.downloader.opened).toBe(2);
    expect((await bytesOf(s.objects, KEY)).equals(served)).toBe(true);
    const head = await s.objects.head(KEY);
    expect(head?.metadata[SHA256_METADATA_KEY]).toBe(hex('sha256', served));
    expect(head?.etag).toBe(hex('md5', served));
    const [record] = await s.sharedState.loadItems('A');
    expect(record).toMatchObject({
      key: KEY,
      ownsObject: true,
      size: SIZE,
      sha256: hex('sha256', served),
      md5: hex('md5', served),
    });
  });

  it('is not referenced by an identical item of another album: that item stores the file whole', async () => {
    const s = setup(failingOnce('staged'));
    const first = album('A', 'Family');
    const second = album('B', 'Friends');
    s.source.put(first, [video('v1')]);
    s.source.put(second, [video('w1')]);
    await expect(s.run(first)).rejects.toThrow();

    const result = await s.run(second);

    expect(result).toMatchObject({ failures: [] });
    expect(s.downloader.opened).toBe(2);
    expect((await bytesOf(s.objects, KEY)).equals(served)).toBe(true);
    expect((await s.objects.head(KEY))?.metadata[SHA256_METADATA_KEY]).toBe(hex('sha256', served));
  });

  it('adopts a whole object a crashed pass stored before recording the item, without downloading again', async () => {
    const s = setup(new InMemoryObjectStore({ partSize: MIN_PART_SIZE }));
    const a = album('A', 'Family');
    s.source.put(a, [video('v1')]);
    await s.run(a);
    // The item's record was lost (the pass died before writing it): a fresh shared state.
    const again = setup(s.objects, s.state, s.source);
    const retry = await again.run(a);

    expect(retry).toMatchObject({ stored: 1, failures: [] });
    expect(again.downloader.opened).toBe(0);
    expect((await again.sharedState.loadItems('A'))[0]).toMatchObject({
      ownsObject: true,
      sha256: hex('sha256', served),
      md5: hex('md5', served),
    });
  });

  it('downloads again over a verified object of another size than Apple states', async () => {
    const s = setup(new InMemoryObjectStore({ partSize: MIN_PART_SIZE }));
    const a = album('A', 'Family');
    s.source.put(a, [video('v1', SIZE - 1)]);
    await s.run(a);
    const lost = setup(s.objects, s.state, s.source);
    s.source.put(a, [video('v1')]);
    const retry = await lost.run(a);

    expect(retry).toMatchObject({ stored: 1, failures: [] });
    expect(lost.downloader.opened).toBe(1);
    expect((await s.objects.head(KEY))?.size).toBe(SIZE);
  });
});
