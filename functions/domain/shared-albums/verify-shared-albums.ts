/**
 * Verify's Shared Albums part: every stored item's object is in the bucket with the size
 * recorded (unless mirror deleted it), every album has its view, and every object under
 * `shared-albums/` belongs to an item or is an album view. Pure: gets the state and the listing.
 */
import { albumViewKey } from './archive-shared-album.ts';
import { SHARED_ALBUMS_PREFIX } from './shared-keys.ts';
import type { SharedAlbumsState, StoredSharedItem } from './state.ts';

export interface SharedAlbumsCheck {
  readonly ok: boolean;
  readonly albums: number;
  readonly goneAlbums: number;
  readonly items: number;
  /** Items stored as Apple's reduced shared-album copy (every legacy item). */
  readonly reducedItems: number;
  /** Items that reference another item's identical object instead of holding their own. */
  readonly referencingItems: number;
  readonly missing: readonly {
    readonly key: string;
    readonly assetGuid: string;
    readonly albumguid: string;
  }[];
  readonly extra: readonly { readonly key: string; readonly size: number }[];
  readonly sizeMismatches: readonly {
    readonly key: string;
    readonly expected: number;
    readonly actual: number;
  }[];
  /**
   * Library objects items reference (stored once with your library). One the library's manifest
   * no longer lists (purged there under `mirror`) is kept for the album and is not an extra object.
   */
  readonly libraryKeys: readonly string[];
  /** Objects and bytes the shared albums own (not in the archive counters, which count the library). */
  readonly ownedObjects: number;
  readonly ownedBytes: number;
}

export function isSharedAlbumKey(key: string): boolean {
  return key.startsWith(`${SHARED_ALBUMS_PREFIX}/`);
}

export function checkSharedAlbums(
  state: SharedAlbumsState | undefined,
  items: ReadonlyMap<string, readonly StoredSharedItem[]>,
  objects: readonly { readonly key: string; readonly size: number }[],
): SharedAlbumsCheck {
  const stored = new Map(objects.filter((o) => isSharedAlbumKey(o.key)).map((o) => [o.key, o]));
  // An item stored once with your library references the library's object, outside shared-albums/.
  const all = new Map(objects.map((o) => [o.key, o]));
  const known = new Set<string>();
  const missing: { key: string; assetGuid: string; albumguid: string }[] = [];
  const sizeMismatches: { key: string; expected: number; actual: number }[] = [];
  const albums = Object.values(state?.albums ?? {});
  let count = 0;
  let reduced = 0;
  let referencing = 0;
  const owned = new Map<string, number>();
  const libraryKeys = new Set<string>();
  for (const album of albums) {
    if (album.folder !== undefined) known.add(albumViewKey(album.folder));
    for (const item of items.get(album.album.albumguid) ?? []) {
      if (item.objectDeletedAt !== undefined) continue;
      known.add(item.key);
      if (item.library !== undefined) libraryKeys.add(item.key);
      if (item.removedAt === undefined) {
        count++;
        if (item.reduced) reduced++;
        if (!item.ownsObject) referencing++;
      }
      const object = all.get(item.key);
      if (object === undefined) {
        missing.push({ key: item.key, assetGuid: item.assetGuid, albumguid: album.album.albumguid });
        continue;
      }
      if (item.ownsObject) owned.set(item.key, object.size);
      if (object.size !== item.size)
        sizeMismatches.push({ key: item.key, expected: item.size, actual: object.size });
    }
  }
  const extra = [...stored.values()]
    .filter((o) => !known.has(o.key))
    .map((o) => ({ key: o.key, size: o.size }));
  return {
    ok: missing.length === 0 && extra.length === 0 && sizeMismatches.length === 0,
    albums: albums.filter((a) => a.goneAt === undefined).length,
    goneAlbums: albums.filter((a) => a.goneAt !== undefined).length,
    items: count,
    reducedItems: reduced,
    referencingItems: referencing,
    missing,
    extra,
    sizeMismatches,
    libraryKeys: [...libraryKeys],
    ownedObjects: owned.size,
    ownedBytes: [...owned.values()].reduce((sum, n) => sum + n, 0),
  };
}
