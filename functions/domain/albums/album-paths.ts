/**
 * Where each album's view lives in the bucket: `albums/<Folder>/<Sub folder>/<Album>`, each
 * segment made safe exactly as object keys are (`sanitizeSegment`, docs/archive-layout.md#8-albums).
 * Album names are not unique (docs/protocol/records.md#cplalbum) and two names may differ only
 * in case or normalisation, which a NAS would merge: siblings that would land on one name are
 * told apart by a short piece of their record name, the first by Apple's order keeping the plain
 * name. Deterministic: the same albums always give the same paths. A path too deep for S3's
 * 1,024-byte keys has its deeper folders shortened into one segment (`boundedViewPath`).
 */
import type { StoredAlbum } from '#domain/model/album.ts';
import { foldKey } from '#domain/model/key-fold.ts';
import { identitySuffix } from '#domain/plan/object-key.ts';
import {
  MAX_SEGMENT_BYTES,
  sanitizeSegment,
  suffixedSegment,
  truncateUtf8,
  utf8Length,
} from '#domain/plan/sanitize.ts';
import { ALBUM_VIEWS_PREFIX } from '#shared/env-names.ts';

/** The prefix every album view lives under. */
export const ALBUMS_PREFIX = ALBUM_VIEWS_PREFIX;

/** Characters of the record name that tell two same-named siblings apart. */
const SUFFIX_LENGTH = 8;

/**
 * Most UTF-8 bytes of an S3 key, its prefix and delimiters included ("Naming Amazon S3 objects",
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html): longer is refused
 * (`400 KeyTooLongError`).
 */
const MAX_KEY_BYTES = 1024;
/** The longest extension a view's objects add to its path (`.json`, `.m3u8`). */
const VIEW_EXTENSION_BYTES = 5;
/** Bytes of the folders' names a shortened folder keeps at least, beside its suffix. */
const MIN_SHORTENED_NAME_BYTES = 24;

/** Apple's order among siblings: position, then record name. */
function bySiblingOrder(a: StoredAlbum, b: StoredAlbum): number {
  const pa = a.position ?? Number.MAX_SAFE_INTEGER;
  const pb = b.position ?? Number.MAX_SAFE_INTEGER;
  if (pa !== pb) return pa - pb;
  return a.recordName < b.recordName ? -1 : a.recordName > b.recordName ? 1 : 0;
}

/** The safe segment of an album's name; its record name when nothing of the name survives. */
function baseSegment(album: StoredAlbum): string {
  return sanitizeSegment(album.name) || sanitizeSegment(album.recordName) || 'album';
}

/**
 * The segment of every live album and folder among its siblings (one parent). Albums and folders
 * are apart: a folder is a directory, an album a file beside it (`X/` and `X.json`).
 */
function siblingSegments(siblings: readonly StoredAlbum[]): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const album of [...siblings].sort(bySiblingOrder)) {
    const space = album.kind === 'folder' ? 'folder' : 'view';
    const base = baseSegment(album);
    let segment = base;
    if (taken.has(`${space}:${foldKey(segment)}`)) {
      // The name is cut for the suffix, never the suffix (`suffixedSegment`).
      segment = suffixedSegment(base, ` (${album.recordName.slice(0, SUFFIX_LENGTH)})`) || base;
      // Record names are unique, but their first characters might not be: then the whole name.
      if (taken.has(`${space}:${foldKey(segment)}`))
        segment = suffixedSegment(base, ` (${album.recordName})`);
    }
    taken.add(`${space}:${foldKey(segment)}`);
    out.set(album.recordName, segment);
  }
  return out;
}

/**
 * The view path (without extension) of every live album of one zone, by record name. Folders and
 * smart albums get no view; deleted albums and albums inside a deleted folder get none either. An album whose
 * folder is unknown (not recorded yet) sits at the top level until it is.
 */
export function albumViewPaths(albums: readonly StoredAlbum[]): Map<string, string> {
  const live = albums.filter((a) => !a.deleted);
  const byName = new Map(live.map((a) => [a.recordName, a]));
  const parentOf = (a: StoredAlbum) =>
    a.parentRecordName !== undefined && byName.get(a.parentRecordName)?.kind === 'folder'
      ? a.parentRecordName
      : undefined;
  const children = new Map<string | undefined, StoredAlbum[]>();
  for (const album of live) {
    const parent = parentOf(album);
    children.set(parent, [...(children.get(parent) ?? []), album]);
  }
  const segments = new Map<string, string>();
  for (const siblings of children.values()) {
    for (const [name, segment] of siblingSegments(siblings)) segments.set(name, segment);
  }
  const paths = new Map<string, string>();
  for (const album of live) {
    // Only albums have members to list: folders hold albums, smart albums are rules run on the device.
    if (album.kind !== 'album') continue;
    const parts = [segments.get(album.recordName) ?? baseSegment(album)];
    const seen = new Set([album.recordName]);
    for (let parent = parentOf(album); parent !== undefined; ) {
      if (seen.has(parent)) break; // a cycle Apple should never send: stop rather than loop
      seen.add(parent);
      parts.unshift(segments.get(parent) ?? parent);
      const folder = byName.get(parent);
      parent = folder === undefined ? undefined : parentOf(folder);
    }
    paths.set(album.recordName, boundedViewPath(parts.slice(0, -1), parts.at(-1) ?? ''));
  }
  return paths;
}

/**
 * `albums/<folders>/<album>`, short enough that its objects' keys fit S3's `MAX_KEY_BYTES` (each
 * segment may have 200 bytes, and folders nest to any depth). A path that fits is as it always
 * was. A longer one keeps its outer folders while they fit beside an album segment of the most
 * bytes, and the album's own segment; the deeper folders become one segment: their names joined
 * and cut to fit, then the identity suffix of the whole folder path. So the same folders always
 * give the same path, the albums of one folder that need it share one shortened folder, and two
 * folder paths never share a shortened segment (35 bits of SHA-256).
 */
function boundedViewPath(folders: readonly string[], name: string): string {
  const path = ALBUMS_PREFIX + [...folders, name].join('/');
  if (utf8Length(path) + VIEW_EXTENSION_BYTES <= MAX_KEY_BYTES) return path;
  // Bytes for the folders, each with the `/` after it, beside the longest album segment: so every
  // album of a folder that is shortened lands in the same shortened folder, whatever its name.
  const budget = MAX_KEY_BYTES - VIEW_EXTENSION_BYTES - utf8Length(ALBUMS_PREFIX) - MAX_SEGMENT_BYTES;
  const suffix = identitySuffix(folders.join('/'));
  const shortest = MIN_SHORTENED_NAME_BYTES + utf8Length(suffix) + 1;
  let kept = 0;
  let used = 0;
  // At least the innermost folder is shortened: the path is too long with all of them whole.
  while (kept < folders.length - 1) {
    const next = utf8Length(folders[kept] ?? '') + 1;
    if (used + next + shortest > budget) break;
    used += next;
    kept += 1;
  }
  const room = Math.min(MAX_SEGMENT_BYTES, budget - used - 1);
  // One byte spare for the `_` a Windows device name would get.
  const names = truncateUtf8(folders.slice(kept).join(' - '), room - 1 - utf8Length(suffix));
  const shortened = sanitizeSegment(names + suffix);
  return ALBUMS_PREFIX + [...folders.slice(0, kept), shortened, name].join('/');
}

/** The names of the folders `album` sits in, outermost first (as Photos shows them). */
export function folderNames(album: StoredAlbum, albums: readonly StoredAlbum[]): string[] {
  const byName = new Map(albums.filter((a) => !a.deleted).map((a) => [a.recordName, a]));
  const names: string[] = [];
  const seen = new Set([album.recordName]);
  for (let parent = album.parentRecordName; parent !== undefined && !seen.has(parent); ) {
    seen.add(parent);
    const folder = byName.get(parent);
    if (folder?.kind !== 'folder') break;
    names.unshift(folder.name);
    parent = folder.parentRecordName;
  }
  return names;
}
