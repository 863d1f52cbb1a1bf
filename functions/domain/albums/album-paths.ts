/**
 * Where each album's view lives in the bucket: `albums/<Folder>/<Sub folder>/<Album>`, each
 * segment made safe exactly as object keys are (`sanitizeSegment`, docs/archive-layout.md#8-albums).
 * Album names are not unique (docs/protocol/records.md#cplalbum) and two names may differ only
 * in case or normalisation, which a NAS would merge: siblings that would land on one name are
 * told apart by a short piece of their record name, the first by Apple's order keeping the plain
 * name. Deterministic: the same albums always give the same paths.
 */
import type { StoredAlbum } from '#domain/model/album.ts';
import { foldKey } from '#domain/model/key-fold.ts';
import { sanitizeSegment, suffixedSegment } from '#domain/plan/sanitize.ts';
import { ALBUM_VIEWS_PREFIX } from '#shared/env-names.ts';

/** The prefix every album view lives under. */
export const ALBUMS_PREFIX = ALBUM_VIEWS_PREFIX;

/** Characters of the record name that tell two same-named siblings apart. */
const SUFFIX_LENGTH = 8;

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
    paths.set(album.recordName, ALBUMS_PREFIX + parts.join('/'));
  }
  return paths;
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
