import { describe, expect, it } from 'vitest';
import { loadAlbumIndex } from '#domain/albums/album-index.ts';
import { albumViewPaths, folderNames } from '#domain/albums/album-paths.ts';
import type { StoredAlbum } from '#domain/model/album.ts';
import { MAX_SEGMENT_BYTES, utf8Length } from '#domain/plan/sanitize.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const zone = { database: 'private', zoneName: 'PrimarySync' } as const;

function album(recordName: string, name: string, extra: Partial<StoredAlbum> = {}): StoredAlbum {
  return {
    zone,
    recordName,
    name,
    kind: 'album',
    albumType: 0,
    deleted: false,
    viewStale: true,
    updatedAt: 0,
    revision: 1,
    ...extra,
  };
}

const folder = (recordName: string, name: string, extra: Partial<StoredAlbum> = {}) =>
  album(recordName, name, { kind: 'folder', albumType: 3, ...extra });

describe('album view paths', () => {
  it('nests albums under their folders, to any depth', () => {
    const paths = albumViewPaths([
      folder('F1', 'Reisen'),
      folder('F2', '2024', { parentRecordName: 'F1' }),
      album('A1', 'Lissabon', { parentRecordName: 'F2' }),
      album('A2', 'Top'),
    ]);
    expect(Object.fromEntries(paths)).toEqual({ A1: 'albums/Reisen/2024/Lissabon', A2: 'albums/Top' });
  });

  it('makes hostile names safe segments and falls back to the record name when nothing is left', () => {
    const paths = albumViewPaths([
      album('A1', 'Garage vorher/nachher'),
      album('A2', 'CON'),
      album('A3', '..'),
      album('A4', ' x\u202Egpj.exe '),
    ]);
    expect([...paths.values()].sort()).toEqual([
      'albums/A3',
      'albums/Garage vorher_nachher',
      'albums/_CON',
      'albums/x_gpj.exe',
    ]);
  });

  it('tells apart siblings a NAS would merge (case, NFC/NFD), the first in Photos order keeping the name', () => {
    const paths = albumViewPaths([
      album('BBBBBBBB-2', 'Jo\u0308rg', { position: 2 }),
      album('AAAAAAAA-1', 'Jörg', { position: 1 }),
      album('CCCCCCCC-3', 'JÖRG', { position: 3 }),
    ]);
    expect(paths.get('AAAAAAAA-1')).toBe('albums/Jörg');
    expect(paths.get('BBBBBBBB-2')).toBe('albums/Jörg (BBBBBBBB)');
    expect(paths.get('CCCCCCCC-3')).toBe('albums/JÖRG (CCCCCCCC)');
  });

  it('keeps the paths it always gave siblings whose suffix fits (views never move)', () => {
    const paths = albumViewPaths([
      folder('F-1', 'Reisen'),
      album('A-1', 'Trips', { parentRecordName: 'F-1', position: 1 }),
      album('B-2', 'trips', { parentRecordName: 'F-1', position: 2 }),
      album('ABCDEFGH-3', 'Trips', { parentRecordName: 'F-1', position: 3 }),
      album('ABCDEFGH-4', 'Trips', { parentRecordName: 'F-1', position: 4 }),
      album('C-5', 'x'.repeat(189), { position: 5 }),
      album('C-6', 'x'.repeat(189), { position: 6 }),
    ]);
    expect([...paths]).toEqual([
      ['A-1', 'albums/Reisen/Trips'],
      ['B-2', 'albums/Reisen/trips (B-2)'],
      ['ABCDEFGH-3', 'albums/Reisen/Trips (ABCDEFGH)'],
      ['ABCDEFGH-4', 'albums/Reisen/Trips (ABCDEFGH-4)'],
      ['C-5', `albums/${'x'.repeat(189)}`],
      ['C-6', `albums/${'x'.repeat(189)} (C-6)`],
    ]);
  });

  it('gives three same-named albums of a 208-byte name three paths, each suffix kept whole', () => {
    const name = 'L'.repeat(208);
    const paths = albumViewPaths([
      album('REC-AAAAAAAA-1', name, { position: 1 }),
      album('REC-AAAAAAAA-2', name, { position: 2 }),
      album('REC-AAAAAAAA-3', name, { position: 3 }),
    ]);
    expect(new Set(paths.values()).size).toBe(3);
    expect(paths.get('REC-AAAAAAAA-2')).toMatch(/^albums\/L+ \(REC-AAAA\)$/);
    expect(paths.get('REC-AAAAAAAA-3')).toMatch(/^albums\/L+ \(REC-AAAAAAAA-3\)$/);
    for (const path of paths.values()) {
      expect(utf8Length(path.slice('albums/'.length))).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    }
  });

  it("bounds a deep view path so its keys fit S3's 1,024 bytes, deterministic and distinct", () => {
    // Six nested folders of 60 CJK characters (180 bytes each): 1,284 bytes unbounded.
    const deep = (prefix: string) =>
      Array.from({ length: 6 }, (_, i) =>
        folder(`${prefix}F${i}`, `${'写真'.repeat(29)}${prefix}${i}`, {
          ...(i === 0 ? {} : { parentRecordName: `${prefix}F${i - 1}` }),
        }),
      );
    const albums = [
      ...deep('a'),
      ...deep('b'),
      album('A-1', '旅行'.repeat(30), { parentRecordName: 'aF5' }),
      album('A-2', '旅行'.repeat(30), { parentRecordName: 'bF5' }),
      album('A-3', 'Other', { parentRecordName: 'aF5' }),
      album('S-1', 'Shallow', { parentRecordName: 'aF0' }),
    ];
    const paths = albumViewPaths(albums);
    for (const path of paths.values()) expect(utf8Length(`${path}.m3u8`)).toBeLessThanOrEqual(1024);
    expect(new Set(paths.values()).size).toBe(paths.size);
    expect(albumViewPaths(albums)).toEqual(paths);
    // Outer folders and the album's own name are kept; only what does not fit is shortened.
    expect(paths.get('A-1')).toMatch(new RegExp(`^albums/${'写真'.repeat(29)}a0/`));
    expect(paths.get('A-1')?.endsWith(`/${'旅行'.repeat(30)}`)).toBe(true);
    expect(paths.get('S-1')).toBe(`albums/${'写真'.repeat(29)}a0/Shallow`);
    // Siblings share their shortened folder.
    const parent = (p: string | undefined) => p?.slice(0, p.lastIndexOf('/'));
    expect(parent(paths.get('A-1'))).toBe(parent(paths.get('A-3')));
  });

  it('gives no view to folders, smart albums, deleted albums or albums inside a deleted folder', () => {
    const paths = albumViewPaths([
      folder('F1', 'Gone', { deleted: true }),
      album('A1', 'Inside', { parentRecordName: 'F1', deleted: true }),
      album('A2', 'Deleted', { deleted: true }),
      album('S1', 'Smart', { kind: 'smart', albumType: 6 }),
      folder('F2', 'Folder'),
    ]);
    expect(paths.size).toBe(0);
  });

  it('puts an album whose folder is not known yet at the top level, and survives a cycle', () => {
    const paths = albumViewPaths([
      album('A1', 'Orphan', { parentRecordName: 'unknown' }),
      folder('F1', 'One', { parentRecordName: 'F2' }),
      folder('F2', 'Two', { parentRecordName: 'F1' }),
    ]);
    expect(paths.get('A1')).toBe('albums/Orphan');
  });

  it('lists the folder names above an album, outermost first, as Photos names them', () => {
    const albums = [folder('F1', 'Reisen'), folder('F2', '2024/25', { parentRecordName: 'F1' })];
    expect(folderNames(album('A1', 'x', { parentRecordName: 'F2' }), albums)).toEqual(['Reisen', '2024/25']);
  });
});

describe('the album index', () => {
  it('answers which live albums a photo is in', async () => {
    const store = new InMemorySyncStateStore();
    const input = (a: StoredAlbum) => {
      const { updatedAt: _u, revision: _r, ...rest } = a;
      return rest;
    };
    await store.saveAlbum(input(folder('F1', 'Reisen')), 0);
    await store.saveAlbum(input(album('A1', 'Lissabon', { parentRecordName: 'F1' })), 0);
    await store.saveAlbum(input(album('A2', 'Porto')), 0);
    await store.saveAlbum(input(album('A3', 'Gone', { deleted: true })), 0);
    for (const recordName of ['A1', 'A2', 'A3'])
      await store.putAlbumMembers({ zone, recordName }, [{ assetRecordName: 'P1', position: 1 }]);
    const index = await loadAlbumIndex(store);
    const of = index.albumsOf({ zone, assetRecordName: 'P1' });
    expect(of.map((a) => a.name).sort()).toEqual(['Lissabon', 'Porto']);
    expect(index.foldersOf(of.find((a) => a.name === 'Lissabon')!)).toEqual(['Reisen']);
    expect(index.albumsOf({ zone, assetRecordName: 'P2' })).toEqual([]);
  });
});
