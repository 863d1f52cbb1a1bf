/**
 * What `status` says about albums: how many of each kind the archive knows, how many views are
 * written, and each album's name, place and size. Pure, from the album store's records.
 */
import type { AlbumKind, StoredAlbum } from '#domain/model/album.ts';
import { folderNames } from './album-paths.ts';

export interface AlbumLine {
  readonly name: string;
  /** Folder names above it, outermost first. */
  readonly folders: readonly string[];
  readonly kind: AlbumKind;
  /** Members the archive knows (hidden ones included). */
  readonly members: number;
  /** Where its view is, without extension; absent for folders, smart albums and until written. */
  readonly view?: string;
  /** The view still misses photos not archived yet. */
  readonly waiting: boolean;
}

export interface AlbumSummary {
  readonly albums: number;
  readonly folders: number;
  readonly smartAlbums: number;
  /** Albums deleted in iCloud (their views are gone). */
  readonly deleted: number;
  readonly views: number;
  /** Albums whose view waits for photos still being archived. */
  readonly waiting: number;
  /** Every live album and folder, by folder path then name. */
  readonly list: readonly AlbumLine[];
}

export function summariseAlbums(
  albums: readonly StoredAlbum[],
  memberCounts: ReadonlyMap<string, number>,
): AlbumSummary {
  const live = albums.filter((a) => !a.deleted);
  const list = live
    .map(
      (a): AlbumLine => ({
        name: a.name,
        folders: folderNames(a, albums),
        kind: a.kind,
        members: memberCounts.get(a.recordName) ?? 0,
        ...(a.view === undefined ? {} : { view: a.view.path }),
        waiting: a.view !== undefined && a.viewStale,
      }),
    )
    .sort((a, b) => {
      const pa = [...a.folders, a.name].join('/');
      const pb = [...b.folders, b.name].join('/');
      return pa.localeCompare(pb);
    });
  return {
    albums: live.filter((a) => a.kind === 'album').length,
    folders: live.filter((a) => a.kind === 'folder').length,
    smartAlbums: live.filter((a) => a.kind === 'smart').length,
    deleted: albums.length - live.length,
    views: live.filter((a) => a.view !== undefined).length,
    waiting: list.filter((l) => l.waiting).length,
    list,
  };
}
