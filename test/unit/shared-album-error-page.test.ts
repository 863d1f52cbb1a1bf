/**
 * A Shared Album item the CDN answers with a 200 that is not the file (an HTML or JSON error page,
 * a 17-byte error body): nothing is stored or recorded, the album's work is retried, and the retry
 * stores the real file. Bytes are counted against the size the album's record states
 * (`resOriginalFileSize`), the CDN's own Content-Length only when the record states none. A file
 * stored before these checks whose recorded size is not the stated one is stored again.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { classifyError } from '#domain/errors.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import type { MediaDownload, MediaDownloader } from '#ports/media-download.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

const album: SharedAlbum = {
  albumguid: 'A',
  name: 'Family',
  location: 'https://p101-sharedstreams.icloud.com:443/A/sharedstreams/',
  ctag: '1',
  ownerDsid: '100',
  sharingType: 'subscribed',
  isPublic: false,
};
const KEY = 'shared-albums/Family/2026-05-03/i1.JPG';
const PHOTO = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe1]), Buffer.alloc(812341, 7)]);

const item = (size: number): SharedItem => ({
  assetGuid: 'i1',
  masterRecordName: 'M-i1',
  changeTag: 'b0',
  fileName: 'i1.JPG',
  contributorDsid: '200',
  addedDate: Date.UTC(2026, 4, 3),
  captureDate: Date.UTC(2026, 4, 3, 12),
  rendition: {
    field: 'resOriginalRes',
    downloadUrl: 'https://cvws.icloud-content.com/B/x',
    fileChecksum: Buffer.from('checksum-of-the-jpeg.').toString('base64'),
    size,
    uti: 'public.jpeg',
  },
  likeCount: 0,
});

/** Serves `body` with its own length as Content-Length (as a CDN error page comes), or none. */
class ServingDownloader implements MediaDownloader {
  constructor(
    public body: Buffer,
    public withLength = true,
  ) {}
  async open(): Promise<MediaDownload> {
    return {
      body: Readable.from([this.body]),
      ...(this.withLength ? { contentLength: this.body.length } : {}),
    };
  }
}

function setup(body: Buffer) {
  const source = new ListedSharedAlbumSource();
  const objects = new InMemoryObjectStore();
  const sharedState = new InMemorySharedAlbumStateStore();
  const downloader = new ServingDownloader(body);
  const run = () =>
    archiveSharedAlbum(
      {
        source,
        sharedState,
        state: new InMemorySyncStateStore(),
        objects,
        downloader,
        deletePolicy: DEFAULT_DELETE_POLICY,
        comments: false,
        now: () => 5,
        pageItems: 2,
      },
      album,
      false,
    );
  const stored = async () => {
    const got = await objects.getStream(KEY);
    return got === undefined ? undefined : Buffer.concat(await got.body.toArray());
  };
  return { source, objects, sharedState, downloader, run, stored };
}

describe('a Shared Album item the CDN answers with a 200 that is not the file', () => {
  const pages = {
    'an HTML error page': Buffer.from('<html><body>503 Service Unavailable</body></html>'),
    'a JSON error body': Buffer.from('{"error":"throttled"}'),
    'a 17-byte error body': Buffer.from('501 Not Implement'),
  };
  for (const [what, page] of Object.entries(pages)) {
    it(`stores and records nothing for ${what}, fails retryably, and the retry stores the photo`, async () => {
      const s = setup(page);
      s.source.put(album, [item(PHOTO.length)]);
      const failed = await s.run().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failed).toBeDefined();
      expect(classifyError(failed)).toBe('retryable');
      expect(await s.stored()).toBeUndefined();
      expect(await s.sharedState.loadItems('A')).toEqual([]);

      s.downloader.body = PHOTO;
      expect(await s.run()).toMatchObject({ stored: 1, failures: [] });
      expect((await s.stored())?.equals(PHOTO)).toBe(true);
      expect((await s.sharedState.loadItems('A'))[0]).toMatchObject({ size: PHOTO.length });
    });
  }

  it('refuses an error page when the record states no size (0), counting against the Content-Length', async () => {
    const s = setup(pages['an HTML error page']);
    s.source.put(album, [item(0)]);
    await expect(s.run()).rejects.toThrow(/error page/);
    expect(await s.stored()).toBeUndefined();
    s.downloader.body = PHOTO;
    expect(await s.run()).toMatchObject({ stored: 1, failures: [] });
    expect((await s.stored())?.length).toBe(PHOTO.length);
  });

  it('counts against the stated size when the CDN sends no Content-Length', async () => {
    const s = setup(pages['a 17-byte error body']);
    s.downloader.withLength = false;
    s.source.put(album, [item(PHOTO.length)]);
    await expect(s.run()).rejects.toThrow(/17 bytes/);
    expect(await s.stored()).toBeUndefined();
  });

  it('stores again an item whose recorded size is not the size its record states (stored before these checks)', async () => {
    // What an earlier version stored: the 17-byte body, recorded as the item's file.
    const s = setup(pages['a 17-byte error body']);
    s.source.put(album, [item(0)]);
    expect(await s.run()).toMatchObject({ stored: 1 });
    expect((await s.sharedState.loadItems('A'))[0]).toMatchObject({ size: 17 });

    // The album's next pass lists the item (same checksum and change tag) with its stated size.
    s.downloader.body = PHOTO;
    s.source.put({ ...album, ctag: '2' }, [item(PHOTO.length)]);
    expect(await s.run()).toMatchObject({ failures: [] });
    expect((await s.stored())?.equals(PHOTO)).toBe(true);
    expect(await s.sharedState.loadItems('A')).toMatchObject([{ size: PHOTO.length, ownsObject: true }]);
  });
});
