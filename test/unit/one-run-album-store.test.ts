/**
 * One run's view of the album store: reads once, its own writes keep what it read current, and a
 * failed write or a lost compare-and-set sends the next read to the store.
 */
import { describe, expect, it } from 'vitest';
import { OneRunAlbumStore } from '#domain/albums/one-run-album-store.ts';
import { ConflictError } from '#domain/errors.ts';
import type { AlbumMember, AlbumRef, StoredAlbumInput } from '#domain/model/album.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const A1: AlbumRef = { zone: PRIMARY, recordName: 'A1' };
const member = (assetRecordName: string, position: number): AlbumMember => ({ assetRecordName, position });
const input = (recordName: string, name: string): StoredAlbumInput => ({
  zone: PRIMARY,
  recordName,
  name,
  kind: 'album',
  albumType: 0,
  deleted: false,
  viewStale: true,
});

class CountingStore extends InMemorySyncStateStore {
  memberReads = 0;
  listReads = 0;
  failNextPut = false;
  override async albumMembers(album: AlbumRef) {
    this.memberReads += 1;
    return super.albumMembers(album);
  }
  override async loadAlbums() {
    this.listReads += 1;
    return super.loadAlbums();
  }
  override async putAlbumMembers(album: AlbumRef, members: readonly AlbumMember[]) {
    if (this.failNextPut) {
      this.failNextPut = false;
      await super.putAlbumMembers(album, members.slice(0, 1));
      throw new Error('the write failed part-way');
    }
    return super.putAlbumMembers(album, members);
  }
}

describe('OneRunAlbumStore', () => {
  it("reads an album's members once, also for readers at the same moment, and keeps them current through its writes", async () => {
    const store = new CountingStore();
    await store.putAlbumMembers(A1, [member('p1', 0), member('p2', 1)]);
    const run = new OneRunAlbumStore(store);

    const [a, b] = await Promise.all([run.albumMembers(A1), run.albumMembers(A1)]);
    expect(a).toEqual([member('p1', 0), member('p2', 1)]);
    expect(b).toEqual(a);
    await run.putAlbumMembers(A1, [member('p3', 0), member('p1', 2)]);
    await run.removeAlbumMembers(A1, ['p2']);

    expect(await run.albumMembers(A1)).toEqual(await store.albumMembers(A1));
    expect(await run.albumMembers(A1)).toEqual([member('p3', 0), member('p1', 2)]);
    expect(store.memberReads).toBe(2); // the run's one read, and the check's own above
  });

  it('reads again after a write that failed part-way', async () => {
    const store = new CountingStore();
    const run = new OneRunAlbumStore(store);
    expect(await run.albumMembers(A1)).toEqual([]);
    store.failNextPut = true;

    await expect(run.putAlbumMembers(A1, [member('p1', 0), member('p2', 1)])).rejects.toThrow('part-way');

    expect(await run.albumMembers(A1)).toEqual([member('p1', 0)]);
    expect(store.memberReads).toBe(2);
  });

  it('lists the albums once, with its own saves in the list; a lost compare-and-set reads the list again', async () => {
    const store = new CountingStore();
    const run = new OneRunAlbumStore(store);
    expect(await run.loadAlbums()).toEqual([]);
    const saved = await run.saveAlbum(input('A1', 'Lissabon'), 0);
    expect((await run.loadAlbums()).map((a) => [a.name, a.revision])).toEqual([['Lissabon', 1]]);
    expect(store.listReads).toBe(1);

    // Another writer moves the album on; the run's stale save loses, and its list is read afresh.
    await store.saveAlbum(input('A1', 'Porto'), saved.revision);
    await expect(run.saveAlbum(input('A1', 'Lissabon 2'), saved.revision)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect((await run.loadAlbums()).map((a) => a.name)).toEqual(['Porto']);
    expect(store.listReads).toBe(2);
  });
});
