/**
 * The album store as one run sees it: the album list and each album's members are read from the
 * store at most once, and the run's own writes keep what was read current. A first sync's walk,
 * the album views and the catalog's album lookups each read every album's members (27 queries
 * for 9 albums); through one of these, the walk's read serves the other two.
 *
 * Only for one run, and only where the run is the album store's one writer: detection writes
 * albums and members under its lock, the view writer writes album records compare-and-set. What
 * another writer changes meanwhile is not seen (a view rendered from it fails its compare-and-set,
 * or the album stays stale, and the next run reads afresh); a write that fails forgets what was
 * read, so the next read goes to the store.
 */
import {
  type AlbumMember,
  type AlbumRef,
  compareMembers,
  type StoredAlbum,
  type StoredAlbumInput,
} from '#domain/model/album.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import type { AlbumStore } from '#ports/album-store.ts';

const albumKey = (ref: AlbumRef) => `${zoneId(ref.zone)}#${ref.recordName}`;

/** `list` with `album` in place of the stored album of the same key (or added). */
function withAlbum(list: readonly StoredAlbum[], album: StoredAlbum): StoredAlbum[] {
  const key = albumKey(album);
  return [...list.filter((a) => albumKey(a) !== key), album];
}

export class OneRunAlbumStore implements AlbumStore {
  readonly #store: AlbumStore;
  #albums: Promise<StoredAlbum[]> | undefined;
  readonly #members = new Map<string, Promise<AlbumMember[]>>();

  constructor(store: AlbumStore) {
    this.#store = store;
  }

  async loadAlbums(): Promise<StoredAlbum[]> {
    if (this.#albums === undefined) {
      const read = this.#store.loadAlbums();
      this.#albums = read;
      read.catch(() => {
        if (this.#albums === read) this.#albums = undefined;
      });
    }
    return [...(await this.#albums)];
  }

  /** Read from the store (a caller that lost a race wants it fresh), and kept as the list's entry. */
  async loadAlbum(ref: AlbumRef): Promise<StoredAlbum | undefined> {
    const album = await this.#store.loadAlbum(ref);
    if (album !== undefined) this.#keep(album);
    return album;
  }

  async saveAlbum(album: StoredAlbumInput, expectedRevision: number): Promise<StoredAlbum> {
    try {
      const saved = await this.#store.saveAlbum(album, expectedRevision);
      this.#keep(saved);
      return saved;
    } catch (error) {
      this.#albums = undefined;
      throw error;
    }
  }

  async albumMembers(album: AlbumRef): Promise<AlbumMember[]> {
    const key = albumKey(album);
    let read = this.#members.get(key);
    if (read === undefined) {
      const reading = this.#store.albumMembers(album);
      read = reading;
      this.#members.set(key, reading);
      reading.catch(() => {
        if (this.#members.get(key) === reading) this.#members.delete(key);
      });
    }
    return [...(await read)];
  }

  async putAlbumMembers(album: AlbumRef, members: readonly AlbumMember[]): Promise<void> {
    const latest = new Map(members.map((m) => [m.assetRecordName, m]));
    await this.#write(
      album,
      () => this.#store.putAlbumMembers(album, members),
      (before) =>
        [...before.filter((m) => !latest.has(m.assetRecordName)), ...latest.values()].sort(compareMembers),
    );
  }

  async removeAlbumMembers(album: AlbumRef, assetRecordNames: readonly string[]): Promise<void> {
    const gone = new Set(assetRecordNames);
    await this.#write(
      album,
      () => this.#store.removeAlbumMembers(album, assetRecordNames),
      (before) => before.filter((m) => !gone.has(m.assetRecordName)),
    );
  }

  albumsOfAsset(zone: ZoneRef, assetRecordName: string): Promise<string[]> {
    return this.#store.albumsOfAsset(zone, assetRecordName);
  }

  #keep(album: StoredAlbum): void {
    const list = this.#albums;
    if (list !== undefined) this.#albums = list.then((known) => withAlbum(known, album));
  }

  /** Writes members; what was read of the album becomes what the store holds after the write. */
  async #write(
    album: AlbumRef,
    write: () => Promise<void>,
    after: (before: readonly AlbumMember[]) => AlbumMember[],
  ): Promise<void> {
    const key = albumKey(album);
    const known = this.#members.get(key);
    // Forgotten while the write runs: a write that fails part-way leaves the store unknown.
    this.#members.delete(key);
    await write();
    if (known === undefined || this.#members.has(key)) return;
    const next = known.then(after);
    this.#members.set(key, next);
    next.catch(() => {
      if (this.#members.get(key) === next) this.#members.delete(key);
    });
  }
}
