/**
 * rebuild-state's Shared Albums part over in-memory stores: after the state is lost, the albums
 * and items come back from their catalog lines with the uses that keep deletion safe (an object
 * two albums show is deleted by mirror only once neither does), and an album the store still has
 * is left alone.
 */
import { describe, expect, it } from 'vitest';
import { rebuildSharedAlbums } from '#app/rebuild-shared-albums.ts';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

const MIRROR: DeletePolicy = { ...DEFAULT_DELETE_POLICY, mode: 'mirror', maxDeleteFraction: 1 };

const album = (guid: string, name: string): SharedAlbum => ({
  albumguid: guid,
  name,
  location: `https://p101-sharedstreams.icloud.com:443/${guid}/sharedstreams/`,
  ctag: '1',
  ownerDsid: '100',
  sharingType: 'subscribed',
  isPublic: false,
});

const item = (guid: string, checksum: string): SharedItem => ({
  assetGuid: guid,
  masterRecordName: `M-${guid}`,
  changeTag: 'b0',
  fileName: `${guid}.JPG`,
  contributorName: 'Ann',
  captureDate: Date.UTC(2026, 4, 3, 12),
  rendition: {
    field: 'resJPEGMedRes',
    downloadUrl: `https://cdn.test/${checksum}?size=32`,
    fileChecksum: Buffer.from(checksum.padEnd(21, '.')).toString('base64'),
    size: 32,
    uti: 'public.jpeg',
  },
  likeCount: 1,
});

function world() {
  const source = new ListedSharedAlbumSource();
  const objects = new InMemoryObjectStore();
  const downloader = new ByteServingDownloader();
  let state = new InMemorySyncStateStore();
  let sharedState = new InMemorySharedAlbumStateStore();
  const run = (a: SharedAlbum) =>
    archiveSharedAlbum(
      {
        source,
        sharedState,
        state,
        objects,
        downloader,
        deletePolicy: MIRROR,
        comments: false,
        now: () => 5,
      },
      a,
      false,
    );
  const loseState = () => {
    state = new InMemorySyncStateStore();
    sharedState = new InMemorySharedAlbumStateStore();
  };
  const rebuild = () => rebuildSharedAlbums({ state, sharedState, objects, now: () => 9 }, () => undefined);
  return { source, objects, run, loseState, rebuild, shared: () => sharedState };
}

describe('rebuildSharedAlbums', () => {
  it('brings back the albums and items, and mirror deletes an object two albums show only once neither does', async () => {
    const w = world();
    const one = album('A', 'One');
    const two = album('B', 'Two');
    w.source.put(one, [item('i1', 'same'), item('i2', 'x2')]);
    w.source.put(two, [item('j1', 'same')]);
    await w.run(one);
    await w.run(two);
    const before = {
      a: await w.shared().loadItems('A'),
      b: await w.shared().loadItems('B'),
      list: (await w.shared().loadAlbums())!,
    };

    w.loseState();
    expect(await w.rebuild()).toMatchObject({ sharedAlbums: 2, sharedItems: 3, sharedAlbumsKept: 0 });
    const comparable = (items: readonly { archivedAt: number }[]) =>
      items.map(({ archivedAt: _a, ...rest }) => rest);
    expect(comparable(await w.shared().loadItems('A'))).toEqual(comparable(before.a));
    expect(comparable(await w.shared().loadItems('B'))).toEqual(comparable(before.b));
    expect((await w.shared().loadAlbums())!.albums['A']).toMatchObject({
      folder: before.list.albums['A']!.folder,
      itemCount: 2,
      objectCount: 2,
    });

    // The owner's item leaves its album: album Two still shows the object.
    w.source.put({ ...one, ctag: '2' }, [item('i2', 'x2')]);
    expect(await w.run({ ...one, ctag: '2' })).toMatchObject({ removed: 1, objectsDeleted: 0 });
    expect(await w.objects.head('shared-albums/One/2026-05-03/i1.JPG')).toBeDefined();
    w.source.put({ ...two, ctag: '2' }, []);
    expect(await w.run({ ...two, ctag: '2' })).toMatchObject({ removed: 1, objectsDeleted: 1 });
    expect(await w.objects.head('shared-albums/One/2026-05-03/i1.JPG')).toBeUndefined();
  });

  it('leaves an album the state store still has as it is', async () => {
    const w = world();
    const one = album('A', 'One');
    w.source.put(one, [item('i1', 'x1')]);
    await w.run(one);
    const list = await w.shared().loadAlbums();
    expect(await w.rebuild()).toMatchObject({ sharedAlbums: 0, sharedAlbumsKept: 1, sharedItems: 0 });
    expect(await w.shared().loadAlbums()).toEqual(list);
  });
});
