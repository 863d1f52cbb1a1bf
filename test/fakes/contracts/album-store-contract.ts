/**
 * The behaviour every `AlbumStore` must have, run against the DynamoDB adapter (on dynalite) and
 * the in-memory fake, so the fake the pipeline tests use cannot drift from the real one.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '#domain/errors.ts';
import type { StoredAlbumInput } from '#domain/model/album.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { AlbumStore } from '#ports/album-store.ts';

const primary: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const shared: ZoneRef = { database: 'shared', zoneName: 'SharedSync-1A2B', ownerRecordName: '_owner' };

function album(recordName: string, overrides: Partial<StoredAlbumInput> = {}): StoredAlbumInput {
  return {
    zone: primary,
    recordName,
    name: `Album ${recordName}`,
    kind: 'album',
    albumType: 0,
    deleted: false,
    viewStale: true,
    ...overrides,
  };
}

export function describeAlbumStoreContract(name: string, createStore: () => Promise<AlbumStore>): void {
  describe(`${name} (AlbumStore contract)`, () => {
    it('saves an album and reads it back, alone and in the list of every album', async () => {
      const store = await createStore();
      const saved = await store.saveAlbum(
        album('A1', { name: 'Garage vorher/nachher', parentRecordName: 'F1', position: 2048 }),
        0,
      );
      expect(saved.revision).toBe(1);
      await store.saveAlbum(album('F1', { kind: 'folder', albumType: 3, name: 'Family' }), 0);
      await store.saveAlbum(album('A1', { zone: shared }), 0);
      expect(await store.loadAlbum({ zone: primary, recordName: 'A1' })).toMatchObject({
        name: 'Garage vorher/nachher',
        parentRecordName: 'F1',
        position: 2048,
        revision: 1,
      });
      const all = await store.loadAlbums();
      expect(all.map((a) => `${a.zone.zoneName}/${a.recordName}`).sort()).toEqual([
        'PrimarySync/A1',
        'PrimarySync/F1',
        'SharedSync-1A2B/A1',
      ]);
      expect(await store.loadAlbum({ zone: primary, recordName: 'missing' })).toBeUndefined();
    });

    it('keeps an album name apart from its case twin', async () => {
      const store = await createStore();
      await store.saveAlbum(album('abc'), 0);
      await store.saveAlbum(album('ABC', { name: 'upper' }), 0);
      expect((await store.loadAlbum({ zone: primary, recordName: 'ABC' }))?.name).toBe('upper');
      expect((await store.loadAlbum({ zone: primary, recordName: 'abc' }))?.name).toBe('Album abc');
    });

    it('turns a stale revision into a conflict, never a silent overwrite', async () => {
      const store = await createStore();
      await store.saveAlbum(album('A1'), 0);
      await expect(store.saveAlbum(album('A1'), 0)).rejects.toBeInstanceOf(ConflictError);
      const second = await store.saveAlbum(
        album('A1', { viewStale: false, view: { path: 'albums/x', hash: 'h' } }),
        1,
      );
      expect(second.revision).toBe(2);
      await expect(store.saveAlbum(album('A1'), 1)).rejects.toBeInstanceOf(ConflictError);
      expect(await store.loadAlbum({ zone: primary, recordName: 'A1' })).toMatchObject({
        viewStale: false,
        view: { path: 'albums/x', hash: 'h' },
      });
    });

    it('lists members in album order, moves a member on a second put, removes idempotently', async () => {
      const store = await createStore();
      const ref = { zone: primary, recordName: 'A1' };
      await store.putAlbumMembers(ref, [
        { assetRecordName: 'P3', position: 3072 },
        { assetRecordName: 'P1', position: 1024 },
        { assetRecordName: 'P2', position: 2048 },
      ]);
      await store.putAlbumMembers({ zone: primary, recordName: 'A2' }, [
        { assetRecordName: 'P9', position: 1 },
      ]);
      expect((await store.albumMembers(ref)).map((m) => m.assetRecordName)).toEqual(['P1', 'P2', 'P3']);
      await store.putAlbumMembers(ref, [{ assetRecordName: 'P1', position: 4096 }]);
      expect(await store.albumMembers(ref)).toEqual([
        { assetRecordName: 'P2', position: 2048 },
        { assetRecordName: 'P3', position: 3072 },
        { assetRecordName: 'P1', position: 4096 },
      ]);
      await store.removeAlbumMembers(ref, ['P2', 'P2', 'never']);
      await store.removeAlbumMembers(ref, ['P2']);
      expect((await store.albumMembers(ref)).map((m) => m.assetRecordName)).toEqual(['P3', 'P1']);
      expect(await store.albumMembers({ zone: primary, recordName: 'none' })).toEqual([]);
    });

    it('answers which albums an asset is in, kept by the same writes as the members', async () => {
      const store = await createStore();
      const a1 = { zone: primary, recordName: 'A1' };
      const a2 = { zone: primary, recordName: 'A2' };
      await store.putAlbumMembers(a1, [{ assetRecordName: 'P1', position: 1 }]);
      await store.putAlbumMembers(a2, [
        { assetRecordName: 'P1', position: 1 },
        { assetRecordName: 'P2', position: 2 },
      ]);
      await store.putAlbumMembers({ zone: shared, recordName: 'A3' }, [
        { assetRecordName: 'P1', position: 1 },
      ]);
      expect(await store.albumsOfAsset(primary, 'P1')).toEqual(['A1', 'A2']);
      await store.removeAlbumMembers(a2, ['P1']);
      expect(await store.albumsOfAsset(primary, 'P1')).toEqual(['A1']);
      expect(await store.albumsOfAsset(primary, 'P9')).toEqual([]);
    });

    it('holds albums of more members than one write batch', async () => {
      const store = await createStore();
      const ref = { zone: primary, recordName: 'big' };
      const members = Array.from({ length: 130 }, (_, i) => ({
        assetRecordName: `P${String(i).padStart(3, '0')}`,
        position: (130 - i) * 1024,
      }));
      await store.putAlbumMembers(ref, members);
      const read = await store.albumMembers(ref);
      expect(read).toHaveLength(130);
      expect(read[0]?.assetRecordName).toBe('P129');
      await store.removeAlbumMembers(
        ref,
        members.slice(0, 100).map((m) => m.assetRecordName),
      );
      expect(await store.albumMembers(ref)).toHaveLength(30);
    });
  });
}
