/**
 * The content of an album's view (docs/archive-layout.md#8-albums): a JSON document for people and
 * programs, and an M3U8 playlist for the media apps that read playlists. Both list the album's
 * photos in album order by their object keys; no bytes are copied. Pure: the same album, members
 * and entries always give the same bytes, so an unchanged album is never written again.
 */
import { createHash } from 'node:crypto';
import type { StoredAlbum } from '#domain/model/album.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';

export const ALBUM_VIEW_FORMAT = 'icloud-s3/album@1';

/** One photo of the album as the view lists it. */
export interface AlbumViewItem {
  readonly assetRecordName: string;
  /** The photo's main object: the original (an edited rendition only when no original is kept). */
  readonly key: string;
  /** The photo's current archived object of each version kind (`original`, `live`, `adjusted`, …). */
  readonly versions: Readonly<Record<string, string>>;
}

/** The JSON view, as written. */
export interface AlbumViewDocument {
  readonly format: typeof ALBUM_VIEW_FORMAT;
  /** The album's name as in Photos (not sanitised). */
  readonly name: string;
  /** The names of the folders it sits in, outermost first (as in Photos). */
  readonly folders: readonly string[];
  readonly recordName: string;
  readonly kind: string;
  readonly items: readonly AlbumViewItem[];
}

/**
 * The photo of a manifest entry as a view item; undefined while it has no archived object, and
 * for a hidden photo or one in Recently Deleted: Photos does not show those in albums, and
 * iCloud's album index does not list them (docs/protocol/cloudkit.md#albums-and-folders).
 */
export function viewItem(entry: ManifestEntry): AlbumViewItem | undefined {
  if (entry.status !== 'archived' || entry.flags.isHidden || entry.flags.isDeleted) return undefined;
  if (entry.versions.length === 0) return undefined;
  const versions: Record<string, string> = {};
  // An edit since replaced or reverted is not the photo's (the last listed wins on older entries).
  for (const v of entry.versions) if (v.current !== false) versions[v.kind] = v.key;
  const main = entry.versions.find((v) => v.kind === 'original') ?? entry.versions[0];
  if (main === undefined) return undefined;
  return { assetRecordName: entry.assetRecordName, key: main.key, versions };
}

/** `target` relative to the folder of `from` (both bucket keys): what a playlist beside it names. */
export function relativeKey(from: string, target: string): string {
  const depth = from.split('/').length - 1;
  return `${'../'.repeat(depth)}${target}`;
}

export interface RenderedView {
  readonly json: string;
  readonly m3u8: string;
  /** SHA-256 (hex) of both, to skip writing an unchanged view. */
  readonly hash: string;
}

/** Renders the view of `album` at `path` (no extension) listing `items` in album order. */
export function renderAlbumView(
  album: StoredAlbum,
  folders: readonly string[],
  path: string,
  items: readonly AlbumViewItem[],
): RenderedView {
  const document: AlbumViewDocument = {
    format: ALBUM_VIEW_FORMAT,
    name: album.name,
    folders,
    recordName: album.recordName,
    kind: album.kind,
    items,
  };
  const json = `${JSON.stringify(document, null, 1)}\n`;
  const playlist = `${path}.m3u8`;
  // Extended M3U: a title line per entry, paths relative to the playlist so a copied folder works.
  const lines = ['#EXTM3U', `#PLAYLIST:${oneLine(album.name)}`];
  for (const item of items) {
    lines.push(
      `#EXTINF:-1,${oneLine(item.key.split('/').at(-1) ?? item.key)}`,
      relativeKey(playlist, item.key),
    );
  }
  const m3u8 = `${lines.join('\n')}\n`;
  const hash = createHash('sha256').update(json).update('\0').update(m3u8).digest('hex');
  return { json, m3u8, hash };
}

/** A name on one playlist line: line breaks would start a new entry. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/gu, ' ');
}
