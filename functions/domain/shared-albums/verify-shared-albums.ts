/**
 * Verify's Shared Albums part: every stored item's object is in the bucket with the size
 * recorded (unless mirror deleted it) and the MD5 recorded, stated as for a library object (the
 * ETag where it is an MD5, else `md5chksum`; with `--deep`, the SHA-256 of the bytes read back),
 * every album has its view, and every object under `shared-albums/` belongs to an item or is an
 * album view. An object whose items were recorded before their hashes were kept is checked by size
 * only (counted in `sizeOnly`). Pure: gets the state and the listing (heads and digests read).
 */
import type { StoredObject } from '../verify/compare-objects.ts';
import { statedMd5 } from '../verify/object-md5.ts';
import type { ChecksumMismatch } from '../verify/verify-report.ts';
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
  /** Objects whose stated MD5 (or, with `--deep`, the SHA-256 of their bytes) is not the recorded one. */
  readonly checksumMismatches: readonly Omit<ChecksumMismatch, 'zone' | 'assetRecordName'>[];
  /** Objects whose MD5 was compared with the recorded one. */
  readonly md5Compared: number;
  /** Objects with a recorded MD5 that state none (a multipart upload without `md5chksum`). */
  readonly md5Unavailable: number;
  /** Objects checked by size only: their items were recorded before their hashes were kept. */
  readonly sizeOnly: number;
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

export interface SharedAlbumsCheckOptions {
  /** As for the library's objects: false under `--sse-kms` (only `md5chksum` counts). */
  readonly etagsAreMd5: boolean;
  /** Keys the library's manifest lists: their hashes are checked there, not again here. */
  readonly checkedByLibrary?: ReadonlySet<string>;
}

/**
 * The MD5 each object of the albums' items should have, by key: the first recorded one (items
 * referencing an object record its owner's hashes), for the objects the library does not check.
 * `verify` reads these objects' heads and bytes as it reads the manifest's.
 */
export function sharedRecordedHashes(
  items: ReadonlyMap<string, readonly StoredSharedItem[]>,
  checkedByLibrary: ReadonlySet<string> = new Set(),
): Map<string, { readonly md5: string; readonly sha256?: string }> {
  const hashes = new Map<string, { md5: string; sha256?: string }>();
  for (const albumItems of items.values())
    for (const item of albumItems)
      if (
        item.objectDeletedAt === undefined &&
        item.md5 !== undefined &&
        !checkedByLibrary.has(item.key) &&
        !hashes.has(item.key)
      )
        hashes.set(item.key, {
          md5: item.md5,
          ...(item.sha256 === undefined ? {} : { sha256: item.sha256 }),
        });
  return hashes;
}

export function checkSharedAlbums(
  state: SharedAlbumsState | undefined,
  items: ReadonlyMap<string, readonly StoredSharedItem[]>,
  objects: readonly StoredObject[],
  options: SharedAlbumsCheckOptions = { etagsAreMd5: true },
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
  // Objects present with their recorded size: their bytes are checked next.
  const whole = new Set<string>();
  for (const album of albums) {
    if (album.folder !== undefined) known.add(albumViewKey(album.folder));
    for (const item of items.get(album.album.albumguid) ?? []) {
      // Mirror deleted a removed item's object. An item still shown needs its file: one that came
      // back was recorded so, its file not stored again, before finding 33 (its next pass stores it).
      if (item.objectDeletedAt !== undefined && item.removedAt !== undefined) continue;
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
      else whole.add(item.key);
    }
  }
  for (const s of sizeMismatches) whole.delete(s.key);
  const bytes = checkBytes(whole, all, sharedRecordedHashes(items, options.checkedByLibrary), options);
  const extra = [...stored.values()]
    .filter((o) => !known.has(o.key))
    .map((o) => ({ key: o.key, size: o.size }));
  return {
    ok:
      missing.length === 0 &&
      extra.length === 0 &&
      sizeMismatches.length === 0 &&
      bytes.checksumMismatches.length === 0,
    albums: albums.filter((a) => a.goneAt === undefined).length,
    goneAlbums: albums.filter((a) => a.goneAt !== undefined).length,
    items: count,
    reducedItems: reduced,
    referencingItems: referencing,
    missing,
    extra,
    sizeMismatches,
    ...bytes,
    libraryKeys: [...libraryKeys],
    ownedObjects: owned.size,
    ownedBytes: [...owned.values()].reduce((sum, n) => sum + n, 0),
  };
}

/** The bytes of each whole object against its recorded hashes, as `compareObjects` checks the library's. */
function checkBytes(
  keys: ReadonlySet<string>,
  objects: ReadonlyMap<string, StoredObject>,
  recorded: ReadonlyMap<string, { readonly md5: string; readonly sha256?: string }>,
  options: SharedAlbumsCheckOptions,
): Pick<SharedAlbumsCheck, 'checksumMismatches' | 'md5Compared' | 'md5Unavailable' | 'sizeOnly'> {
  const checksumMismatches: Omit<ChecksumMismatch, 'zone' | 'assetRecordName'>[] = [];
  let md5Compared = 0;
  let md5Unavailable = 0;
  let sizeOnly = 0;
  for (const key of keys) {
    const object = objects.get(key);
    if (object === undefined || options.checkedByLibrary?.has(key)) continue;
    const hashes = recorded.get(key);
    if (hashes === undefined) {
      sizeOnly++;
      continue;
    }
    const stated = statedMd5(object, options.etagsAreMd5);
    if (stated === undefined) md5Unavailable++;
    else {
      md5Compared++;
      if (stated.md5 !== hashes.md5) {
        checksumMismatches.push({
          key,
          algorithm: 'md5',
          source: stated.source,
          expected: hashes.md5,
          actual: stated.md5,
        });
        continue;
      }
    }
    if (
      object.content !== undefined &&
      hashes.sha256 !== undefined &&
      object.content.sha256 !== hashes.sha256
    )
      checksumMismatches.push({
        key,
        algorithm: 'sha256',
        source: 'content',
        expected: hashes.sha256,
        actual: object.content.sha256,
      });
  }
  return { checksumMismatches, md5Compared, md5Unavailable, sizeOnly };
}
