/**
 * The Shared Albums' catalog lines (`catalog/shared-albums/<albumguid>.jsonl`): each item with its
 * contributor, caption, likes and comments, read back from the bucket alone; kept current when a
 * comment arrives or an item leaves the album.
 */
import { describe, expect, it } from 'vitest';
import { readText } from '#app/catalog-upkeep.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import { sharedCatalogKey } from '#domain/shared-albums/shared-catalog.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

const album = (ctag: string): SharedAlbum => ({
  albumguid: '5A1B2C3D-0000-4000-8000-00000000AB01',
  name: 'Family 2026',
  location: 'https://p101-sharedstreams.icloud.com:443/x/sharedstreams/',
  ctag,
  ownerDsid: '100',
  sharingType: 'subscribed',
  isPublic: false,
});

const item = (guid: string, overrides: Partial<SharedItem> = {}): SharedItem => ({
  assetGuid: guid,
  masterRecordName: `M-${guid}`,
  changeTag: 'b1',
  fileName: `${guid}.JPG`,
  contributorDsid: '200',
  contributorName: 'Zoë Example',
  addedDate: Date.UTC(2026, 4, 3),
  captureDate: Date.UTC(2026, 4, 3, 12),
  rendition: {
    field: 'resOriginalRes',
    downloadUrl: `https://cdn.test/${guid}?size=16`,
    fileChecksum: Buffer.from(`${guid}-checksum`).toString('base64'),
    size: 16,
    uti: 'public.jpeg',
    width: 2048,
    height: 1536,
  },
  likeCount: 0,
  ...overrides,
});

function setup() {
  const source = new ListedSharedAlbumSource();
  const objects = new InMemoryObjectStore();
  const sharedState = new InMemorySharedAlbumStateStore();
  const run = (a: SharedAlbum) =>
    archiveSharedAlbum(
      {
        source,
        sharedState,
        state: new InMemorySyncStateStore(),
        objects,
        downloader: new ByteServingDownloader(),
        deletePolicy: DEFAULT_DELETE_POLICY,
        comments: true,
        now: () => Date.UTC(2026, 5, 1),
      },
      a,
      false,
    );
  const lines = async () => {
    const text = await readText(objects, sharedCatalogKey(album('1').albumguid));
    return (text ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  };
  return { source, objects, run, lines };
}

describe('the Shared Albums catalog', () => {
  it('lists every item with its contributor, caption, likes and comments, readable from the bucket alone', async () => {
    const s = setup();
    s.source.put(album('1'), [item('i2', { caption: 'Grandma’s 90th 🎂', likeCount: 2 }), item('i1')]);
    s.source.commentsByItem.set('i2', [
      { kind: 'like', text: '', author: 'Ann', at: Date.UTC(2026, 4, 4) },
      { kind: 'text', text: 'So lovely <3', author: 'Bob' },
    ]);
    await s.run(album('1'));
    const lines = await s.lines();
    expect(lines.map((l) => l.asset)).toEqual(['i1', 'i2']);
    expect(lines[1]).toMatchObject({
      v: 1,
      sharedAlbum: { albumguid: album('1').albumguid, name: 'Family 2026', generation: 'legacy' },
      status: 'archived',
      fileName: 'i2.JPG',
      contributor: 'Zoë Example',
      contributorId: '200',
      caption: 'Grandma’s 90th 🎂',
      likes: 2,
      comments: [
        { kind: 'like', text: '', author: 'Ann', at: '2026-05-04T00:00:00.000Z' },
        { kind: 'text', text: 'So lovely <3', author: 'Bob' },
      ],
      rendition: 'shared-album-copy',
      reduced: true,
      key: 'shared-albums/Family 2026/2026-05-03/i2.JPG',
    });
    expect(lines[0].caption).toBeUndefined();
  });

  it('follows a new comment and an item leaving the album', async () => {
    const s = setup();
    s.source.put(album('1'), [item('i1'), item('i2')]);
    await s.run(album('1'));
    s.source.put(album('2'), [item('i1', { changeTag: 'b2' })]);
    s.source.commentsByItem.set('i1', [{ kind: 'text', text: 'Later', author: 'Ann' }]);
    await s.run(album('2'));
    const lines = await s.lines();
    expect(lines[0]).toMatchObject({ asset: 'i1', status: 'archived', comments: [{ text: 'Later' }] });
    expect(lines[1]).toMatchObject({ asset: 'i2', status: 'removed', removedAt: '2026-06-01T00:00:00.000Z' });
  });
});
