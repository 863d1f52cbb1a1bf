/**
 * One asset as the catalog in the bucket describes it (docs/archive-layout.md#9-the-catalog): who it
 * is in iCloud, when and where it was taken, what a person wrote about it, its flags and albums, and
 * every object archived for it with its hashes. Our own format, so parsing is strict.
 *
 * A record is the manifest entry (flags, status, albums, versions: what the workers wrote) joined
 * with the asset's facts (capture time, name, description: what detection read from iCloud).
 */
import { VERSION_KINDS } from '#domain/model/asset.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import { optional } from '#shared/optional-field.ts';
import * as z from '#shared/zod.ts';
import { formatCaptureTime } from '../plan/object-metadata.ts';
import type { AssetFacts } from './asset-facts.ts';

export const CATALOG_FORMAT_VERSION = 1;

const zoneRef = z.strictObject({
  database: z.enum(['private', 'shared']),
  zoneName: z.string().check(z.minLength(1)),
  ownerRecordName: z.optional(z.string()),
});

const catalogVersion = z.strictObject({
  kind: z.enum(VERSION_KINDS),
  key: z.string().check(z.minLength(1)),
  size: z.int().check(z.nonnegative()),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  md5: z.string().check(z.regex(/^[0-9a-f]{32}$/)),
  fileChecksum: z.string(),
  archivedAt: z.string(),
  etag: z.optional(z.string()),
  versionId: z.optional(z.string()),
  /** `false`: an edit since replaced or reverted in Photos (absent: current). */
  current: z.optional(z.literal(false)),
});

const catalogDeletion = z.strictObject({
  kind: z.enum(VERSION_KINDS),
  key: z.string(),
  deletedAt: z.string(),
  reason: z.string(),
});

export const catalogRecordSchema = z.strictObject({
  v: z.literal(CATALOG_FORMAT_VERSION),
  zone: zoneRef,
  asset: z.string().check(z.minLength(1)),
  master: z.string().check(z.minLength(1)),
  assetChangeTag: z.string(),
  masterChangeTag: z.optional(z.string()),
  status: z.enum(['pending', 'archived', 'failed', 'trashed', 'purged']),
  fileName: z.optional(z.string()),
  mediaType: z.optional(z.enum(['photo', 'video'])),
  /** Local capture time with its offset, RFC 3339 (`2024-07-14T23:30:00.250-08:00`; `Z` when unknown). */
  captured: z.optional(z.string()),
  /** The same instant, ms since the epoch. */
  capturedAt: z.optional(z.number()),
  timeZoneOffsetSeconds: z.optional(z.int()),
  timeZoneName: z.optional(z.string()),
  width: z.optional(z.number()),
  height: z.optional(z.number()),
  durationMs: z.optional(z.number()),
  location: z.optional(
    z.strictObject({ latitude: z.number(), longitude: z.number(), altitude: z.optional(z.number()) }),
  ),
  favorite: z.boolean(),
  hidden: z.boolean(),
  recentlyDeleted: z.boolean(),
  title: z.optional(z.string()),
  caption: z.optional(z.string()),
  keywords: z.optional(z.array(z.string())),
  /** Album record names (the album views in `albums/` name them). */
  albums: z.array(z.string()),
  versions: z.array(catalogVersion),
  deletions: z.optional(z.array(catalogDeletion)),
});

export type CatalogRecord = z.infer<typeof catalogRecordSchema>;

const iso = (ms: number) => new Date(ms).toISOString();

/** The identity a record is sorted and found by: zone id and asset record name. */
export function catalogIdOf(ref: {
  readonly zone: { readonly database: string; readonly zoneName: string; readonly ownerRecordName?: string };
  readonly assetRecordName: string;
}): string {
  return `${ref.zone.database}/${ref.zone.ownerRecordName ?? '_'}/${ref.zone.zoneName}/${ref.assetRecordName}`;
}

/** The catalog id of a record. */
export function recordId(record: CatalogRecord): string {
  return catalogIdOf({ zone: record.zone, assetRecordName: record.asset });
}

/** Builds the record of `entry`, with the newest facts known about the asset. */
export function toCatalogRecord(entry: ManifestEntry, facts: AssetFacts | undefined): CatalogRecord {
  const d = facts?.description;
  const record: CatalogRecord = {
    v: CATALOG_FORMAT_VERSION,
    zone: { ...entry.zone },
    asset: entry.assetRecordName,
    master: entry.masterRecordName,
    assetChangeTag: entry.assetChangeTag,
    ...optional('masterChangeTag', entry.masterChangeTag),
    status: entry.status,
    ...optional('fileName', facts?.fileName),
    ...optional('mediaType', facts?.mediaType),
    ...(facts?.captureTime === undefined
      ? {}
      : {
          captured:
            formatCaptureTime(facts.captureTime, facts.timeZoneOffsetSeconds) ?? iso(facts.captureTime),
          capturedAt: facts.captureTime,
        }),
    ...optional('timeZoneOffsetSeconds', facts?.timeZoneOffsetSeconds),
    ...optional('timeZoneName', d?.timeZoneName),
    ...optional('width', d?.width),
    ...optional('height', d?.height),
    ...optional('durationMs', d?.durationMs),
    ...(d?.location === undefined ? {} : { location: { ...d.location } }),
    favorite: entry.flags.isFavorite,
    hidden: entry.flags.isHidden,
    recentlyDeleted: entry.flags.isDeleted,
    ...optional('title', d?.title),
    ...optional('caption', d?.caption),
    ...(d?.keywords === undefined ? {} : { keywords: [...d.keywords] }),
    albums: [...entry.albums].sort(),
    versions: entry.versions.map((v) => ({
      kind: v.kind,
      key: v.key,
      size: v.size,
      sha256: v.sha256,
      md5: v.md5,
      fileChecksum: v.fileChecksum,
      archivedAt: iso(v.archivedAt),
      ...optional('etag', v.etag),
      ...optional('versionId', v.versionId),
      ...optional('current', v.current),
    })),
    ...(entry.deletions.length === 0
      ? {}
      : {
          deletions: entry.deletions.map((x) => ({
            kind: x.kind,
            key: x.key,
            deletedAt: iso(x.deletedAt),
            reason: x.reason,
          })),
        }),
  };
  return record;
}

/** The facts a record carries (to keep them when a later change brings none). */
export function factsOfRecord(record: CatalogRecord): AssetFacts {
  const description = {
    ...optional('title', record.title),
    ...optional('caption', record.caption),
    ...optional('keywords', record.keywords),
    ...optional('location', record.location),
    ...optional('width', record.width),
    ...optional('height', record.height),
    ...optional('durationMs', record.durationMs),
    ...optional('timeZoneName', record.timeZoneName),
  };
  return {
    ...optional('fileName', record.fileName),
    ...optional('mediaType', record.mediaType),
    ...optional('captureTime', record.capturedAt),
    ...optional('timeZoneOffsetSeconds', record.timeZoneOffsetSeconds),
    description,
  };
}
