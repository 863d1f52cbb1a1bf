/**
 * What every `SharedAlbumStateStore` does, run against the in-memory fake and the DynamoDB
 * adapter: the album list (legacy and new-generation albums) round-trips and is written by compare-and-set; items round-trip per
 * album and a write replaces the item.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '#domain/errors.ts';
import type { SharedAlbumsState, StoredSharedItem } from '#domain/shared-albums/state.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';

const list: Omit<SharedAlbumsState, 'revision'> = {
  albums: {
    A: {
      album: {
        albumguid: 'A',
        name: 'Family 👨‍👩‍👧',
        location: 'https://p125-sharedstreams.icloud.com:443/T/sharedstreams/',
        ctag: 'FT;1;4',
        ownerDsid: '100',
        sharingType: 'subscribed',
        creationDate: 1,
        isPublic: false,
      },
      archivedCtag: 'FT;1;4',
      itemCount: 2,
      reducedCount: 2,
      folder: 'Family 👨‍👩‍👧',
      // The last pass left an item unstored: detection hands the album out again on a backoff.
      retry: { tries: 2, lastTriedAt: 1_700_000_000_000 },
    },
    'SharedCollection-0A1B2C3D-0000-4000-8000-00000000AB01': {
      album: {
        albumguid: 'SharedCollection-0A1B2C3D-0000-4000-8000-00000000AB01',
        name: 'Ski',
        location: '',
        ctag: 'AQAAAAAAAAAC',
        ownerDsid: '_owner',
        ownerName: 'Ann Lee',
        sharingType: 'subscribed',
        isPublic: false,
        collection: {
          database: 'shared',
          zoneName: 'SharedCollection-0A1B2C3D-0000-4000-8000-00000000AB01',
          ownerRecordName: '_owner',
        },
      },
      itemCount: 1,
      reducedCount: 0,
    },
  },
  checkedAt: 5,
  everyDatabaseAskedAt: 6,
  collectionTokens: { private: ['T1', 'T2'], shared: ['S1'] },
  checkedAlone: 'legacy',
  legacyServiceMissingAt: 7,
};

const item = (guid: string, overrides: Partial<StoredSharedItem> = {}): StoredSharedItem => ({
  assetGuid: guid,
  fileName: `${guid}.JPG`,
  key: `shared-albums/Family/2026-05-03/${guid}.JPG`,
  ownsObject: true,
  fileChecksum: 'AbCd',
  size: 10,
  rendition: 'resOriginalRes',
  reduced: true,
  changeTag: 'b0',
  likeCount: 0,
  comments: [{ kind: 'text', text: 'so cute', author: 'Grandma', at: 3 }],
  archivedAt: 4,
  ...overrides,
});

export function describeSharedAlbumStateStoreContract(
  name: string,
  open: () => Promise<SharedAlbumStateStore>,
) {
  describe(name, () => {
    it('has no album list before the first save, and reads back what was saved', async () => {
      const store = await open();
      expect(await store.loadAlbums()).toBeUndefined();
      const saved = await store.saveAlbums(list, 0);
      expect(saved.revision).toBe(1);
      expect(await store.loadAlbums()).toEqual({ ...list, revision: 1 });
    });

    it('refuses a save against a stale revision', async () => {
      const store = await open();
      await store.saveAlbums(list, 0);
      await store.saveAlbums(list, 1);
      await expect(store.saveAlbums(list, 1)).rejects.toBeInstanceOf(ConflictError);
      await expect(store.saveAlbums(list, 0)).rejects.toBeInstanceOf(ConflictError);
    });

    it('keeps items per album and replaces an item on a second write', async () => {
      const store = await open();
      await store.putItem('A', item('i1'));
      await store.putItem('A', item('i2'));
      await store.putItem('B', item('j1'));
      // An item stored once with the library, and one with a caption.
      await store.putItem(
        'B',
        item('j2', {
          ownsObject: false,
          key: 'library/2026/2026-07-01/IMG_0001.JPG',
          library: {
            zone: { database: 'private', zoneName: 'PrimarySync' },
            assetRecordName: 'ASSET-1',
            masterRecordName: 'AbCd',
            kind: 'original',
          },
          caption: 'Ski ⛷',
        }),
      );
      await store.putItem('A', item('i1', { removedAt: 9 }));
      const items = (await store.loadItems('A')).sort((x, y) => x.assetGuid.localeCompare(y.assetGuid));
      expect(items).toEqual([item('i1', { removedAt: 9 }), item('i2')]);
      expect((await store.loadItems('B')).sort((x, y) => x.assetGuid.localeCompare(y.assetGuid))).toEqual([
        item('j1'),
        item('j2', {
          ownsObject: false,
          key: 'library/2026/2026-07-01/IMG_0001.JPG',
          library: {
            zone: { database: 'private', zoneName: 'PrimarySync' },
            assetRecordName: 'ASSET-1',
            masterRecordName: 'AbCd',
            kind: 'original',
          },
          caption: 'Ski ⛷',
        }),
      ]);
      expect(await store.loadItems('C')).toEqual([]);
    });

    it('writes a page of item records at once, replacing those written before', async () => {
      const store = await open();
      await store.putItem('A', item('i0'));
      const page = Array.from({ length: 30 }, (_, n) => item(`i${n}`, { likeCount: n }));
      await store.putItems('A', page);
      await store.putItems('A', []);
      const items = (await store.loadItems('A')).sort((x, y) => x.likeCount - y.likeCount);
      expect(items).toEqual(page);
    });
  });
}
