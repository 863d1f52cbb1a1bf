/**
 * An `AlbumStore` (the state table's album records) and a `SharedAlbumStateStore` in front of
 * which the Lambda process dies at a scheduled call (`albums.saveAlbum`, `sharedAlbums.putItem`
 * ...): once the invocation is dead, nothing it still does reaches the table.
 */
import type { AlbumMember, AlbumRef, StoredAlbumInput } from '#domain/model/album.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { SharedAlbumsState, StoredSharedItem } from '#domain/shared-albums/state.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { CrashSchedule } from './crashing-invocation.ts';

export class CrashingAlbumStore implements AlbumStore {
  readonly #inner: AlbumStore;
  readonly #schedule: CrashSchedule;

  constructor(inner: AlbumStore, schedule: CrashSchedule) {
    this.#inner = inner;
    this.#schedule = schedule;
  }

  loadAlbums() {
    return this.#schedule.around('albums.loadAlbums', () => this.#inner.loadAlbums());
  }
  loadAlbum(ref: AlbumRef) {
    return this.#schedule.around('albums.loadAlbum', () => this.#inner.loadAlbum(ref));
  }
  saveAlbum(album: StoredAlbumInput, expectedRevision: number) {
    return this.#schedule.around('albums.saveAlbum', () => this.#inner.saveAlbum(album, expectedRevision));
  }
  albumMembers(album: AlbumRef) {
    return this.#schedule.around('albums.albumMembers', () => this.#inner.albumMembers(album));
  }
  putAlbumMembers(album: AlbumRef, members: readonly AlbumMember[]) {
    return this.#schedule.around('albums.putAlbumMembers', () => this.#inner.putAlbumMembers(album, members));
  }
  removeAlbumMembers(album: AlbumRef, assetRecordNames: readonly string[]) {
    return this.#schedule.around('albums.removeAlbumMembers', () =>
      this.#inner.removeAlbumMembers(album, assetRecordNames),
    );
  }
  albumsOfAsset(zone: ZoneRef, assetRecordName: string) {
    return this.#schedule.around('albums.albumsOfAsset', () =>
      this.#inner.albumsOfAsset(zone, assetRecordName),
    );
  }
}

export class CrashingSharedAlbumStateStore implements SharedAlbumStateStore {
  readonly #inner: SharedAlbumStateStore;
  readonly #schedule: CrashSchedule;

  constructor(inner: SharedAlbumStateStore, schedule: CrashSchedule) {
    this.#inner = inner;
    this.#schedule = schedule;
  }

  loadAlbums() {
    return this.#schedule.around('sharedAlbums.loadAlbums', () => this.#inner.loadAlbums());
  }
  saveAlbums(state: Omit<SharedAlbumsState, 'revision'>, expectedRevision: number) {
    return this.#schedule.around('sharedAlbums.saveAlbums', () =>
      this.#inner.saveAlbums(state, expectedRevision),
    );
  }
  loadItems(albumguid: string) {
    return this.#schedule.around('sharedAlbums.loadItems', () => this.#inner.loadItems(albumguid));
  }
  putItem(albumguid: string, item: StoredSharedItem) {
    return this.#schedule.around('sharedAlbums.putItem', () => this.#inner.putItem(albumguid, item));
  }
  putItems(albumguid: string, items: readonly StoredSharedItem[]) {
    return this.#schedule.around('sharedAlbums.putItems', () => this.#inner.putItems(albumguid, items));
  }
}
