/**
 * The Shared Albums' part of the catalog (docs/archive-layout.md#9-the-catalog):
 * `catalog/shared-albums/<albumguid>.jsonl`, one JSON line per item the album has held, with what
 * the archive knows of it and what lives nowhere else in the bucket's files: the contributor, the
 * caption, likes and comments, whether the file is Apple's reduced copy, and where its bytes are
 * (its own object, another album's, or your library's original). Written whole by the worker that
 * archives the album, beside its `album.json` (one writer per album, as for the view), so the
 * library's catalog writer and its shards are untouched. Same bytes for the same state.
 */
import * as z from '#shared/zod.ts';
import { CATALOG_PREFIX } from '../catalog/journal-ids.ts';
import {
  COLLECTION_RENDITION_LABEL,
  isReducedCopy,
  LEGACY_RENDITION_LABEL,
  type SharedAlbum,
} from './model.ts';
import type { StoredSharedItem } from './state.ts';

export const SHARED_CATALOG_PREFIX = `${CATALOG_PREFIX}/shared-albums/`;

/** `catalog/shared-albums/<albumguid>.jsonl` (album ids are UUIDs or `SharedCollection-<UUID>`: safe). */
export function sharedCatalogKey(albumguid: string): string {
  return `${SHARED_CATALOG_PREFIX}${albumguid.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** One line per item, sorted by asset GUID; fields absent when unknown (JSON drops `undefined`). */
export function sharedCatalogText(
  album: SharedAlbum,
  folder: string,
  items: readonly StoredSharedItem[],
  goneAt: number | undefined,
): string {
  const albumFacts = {
    albumguid: album.albumguid,
    name: album.name,
    folder,
    generation: album.collection === undefined ? 'legacy' : 'shared-collection',
    sharingType: album.sharingType,
    owner: album.ownerDsid,
    ownerName: album.ownerName,
    goneAt: iso(goneAt),
  };
  const lines = items
    .slice()
    .sort((a, b) => (a.assetGuid < b.assetGuid ? -1 : a.assetGuid > b.assetGuid ? 1 : 0))
    .map((i) =>
      JSON.stringify({
        v: 1,
        sharedAlbum: albumFacts,
        asset: i.assetGuid,
        status: i.removedAt === undefined ? 'archived' : 'removed',
        fileName: i.fileName,
        captured: iso(i.captureDate),
        added: iso(i.addedDate),
        contributor: i.contributorName,
        contributorId: i.contributorDsid,
        caption: i.caption,
        likes: i.likeCount,
        comments: i.comments.map((c) => ({
          kind: c.kind,
          text: c.text,
          author: c.author,
          at: iso(c.at),
        })),
        rendition: isReducedCopy(album) ? LEGACY_RENDITION_LABEL : COLLECTION_RENDITION_LABEL,
        renditionField: i.rendition || undefined,
        reduced: i.reduced,
        ...(i.width === undefined || i.height === undefined ? {} : { width: i.width, height: i.height }),
        key: i.key,
        size: i.size,
        fileChecksum: i.fileChecksum,
        sha256: i.sha256,
        md5: i.md5,
        references: i.ownsObject ? undefined : i.library === undefined ? 'shared-album' : 'library',
        library: i.library && { zone: i.library.zone, asset: i.library.assetRecordName },
        changeTag: i.changeTag || undefined,
        removedAt: iso(i.removedAt),
        objectDeletedAt: iso(i.objectDeletedAt),
      }),
    );
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

const zoneRef = z.strictObject({
  database: z.enum(['private', 'shared']),
  zoneName: z.string().check(z.minLength(1)),
  ownerRecordName: z.optional(z.string()),
});

/** One line of `catalog/shared-albums/<album id>.jsonl`, as `sharedCatalogText` writes it (ours: strict). */
export const sharedCatalogLineSchema = z.strictObject({
  v: z.literal(1),
  sharedAlbum: z.strictObject({
    albumguid: z.string().check(z.minLength(1)),
    name: z.string(),
    folder: z.string().check(z.minLength(1)),
    generation: z.enum(['legacy', 'shared-collection']),
    sharingType: z.enum(['owned', 'subscribed']),
    owner: z.string(),
    ownerName: z.optional(z.string()),
    goneAt: z.optional(z.string()),
  }),
  asset: z.string().check(z.minLength(1)),
  status: z.enum(['archived', 'removed']),
  fileName: z.string(),
  captured: z.optional(z.string()),
  added: z.optional(z.string()),
  contributor: z.optional(z.string()),
  contributorId: z.optional(z.string()),
  caption: z.optional(z.string()),
  likes: z.int().check(z.nonnegative()),
  comments: z.array(
    z.strictObject({
      kind: z.enum(['text', 'like']),
      text: z.string(),
      author: z.string(),
      at: z.optional(z.string()),
    }),
  ),
  rendition: z.string(),
  renditionField: z.optional(z.string()),
  reduced: z.boolean(),
  width: z.optional(z.number()),
  height: z.optional(z.number()),
  key: z.string().check(z.minLength(1)),
  size: z.int().check(z.nonnegative()),
  fileChecksum: z.string(),
  sha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  md5: z.optional(z.string().check(z.regex(/^[0-9a-f]{32}$/))),
  references: z.optional(z.enum(['shared-album', 'library'])),
  library: z.optional(z.strictObject({ zone: zoneRef, asset: z.string().check(z.minLength(1)) })),
  changeTag: z.optional(z.string()),
  removedAt: z.optional(z.string()),
  objectDeletedAt: z.optional(z.string()),
});

export type SharedCatalogLine = z.infer<typeof sharedCatalogLineSchema>;

/** The lines of one album's catalog file (blank lines skipped). */
export function decodeSharedCatalog(text: string): SharedCatalogLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => sharedCatalogLineSchema.parse(JSON.parse(line)));
}
