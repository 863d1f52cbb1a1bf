/**
 * The wire format of a work message (`domain/model/work.ts`) on the queue. Our own format, so parsing is strict: an unknown key is
 * an error, and a message that does not parse is a bug, never retried.
 *
 * Messages may carry signed download URLs (valid about an hour): never log a message body.
 */
import { type Asset, type AssetOnlyChange, VERSION_KINDS } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import * as z from '#shared/zod.ts';
import { sharedAlbumSchema } from './shared-album-schema.ts';

const zoneRef = z.strictObject({
  database: z.enum(['private', 'shared']),
  zoneName: z.string().check(z.minLength(1)),
  ownerRecordName: z.optional(z.string()),
});

const versionKind = z.enum(VERSION_KINDS);

const unavailableVersion = z.strictObject({
  kind: versionKind,
  resourceField: z.string(),
  missing: z.array(z.enum(['downloadURL', 'size', 'fileChecksum'])),
  fileChecksum: z.optional(z.string()),
});

const assetVersion = z.strictObject({
  kind: versionKind,
  resourceField: z.string(),
  size: z.int().check(z.nonnegative()),
  fileChecksum: z.string(),
  uti: z.string(),
  downloadUrl: z.optional(z.string()),
  width: z.optional(z.number()),
  height: z.optional(z.number()),
});

const description = z.strictObject({
  title: z.optional(z.string()),
  caption: z.optional(z.string()),
  keywords: z.optional(z.array(z.string())),
  location: z.optional(
    z.strictObject({ latitude: z.number(), longitude: z.number(), altitude: z.optional(z.number()) }),
  ),
  width: z.optional(z.number()),
  height: z.optional(z.number()),
  durationMs: z.optional(z.number()),
  timeZoneName: z.optional(z.string()),
});

const asset = z.strictObject({
  zone: zoneRef,
  assetRecordName: z.string().check(z.minLength(1)),
  masterRecordName: z.string().check(z.minLength(1)),
  assetChangeTag: z.string(),
  masterChangeTag: z.string(),
  fileName: z.string(),
  fileNameSource: z.enum(['filenameEnc', 'fallback']),
  mediaType: z.enum(['photo', 'video']),
  itemType: z.optional(z.string()),
  captureTime: z.number(),
  timeZoneOffsetSeconds: z.optional(z.number()),
  addedTime: z.optional(z.number()),
  isFavorite: z.boolean(),
  isHidden: z.boolean(),
  isDeleted: z.boolean(),
  isExpunged: z.boolean(),
  dateExpunged: z.optional(z.number()),
  adjustmentType: z.optional(z.string()),
  subtypes: z.array(z.enum(['live', 'screenshot', 'slomo', 'burst', 'panorama', 'timelapse', 'raw+jpeg'])),
  burstId: z.optional(z.string()),
  contributors: z.optional(z.array(z.string())),
  deletedBy: z.optional(z.string()),
  trashReason: z.optional(z.number()),
  versions: z.array(assetVersion),
  unavailableVersions: z.optional(z.array(unavailableVersion)),
  description: z.optional(description),
});

const assetOnly = z.strictObject({
  zone: zoneRef,
  assetRecordName: z.string().check(z.minLength(1)),
  masterRecordName: z.string().check(z.minLength(1)),
  assetChangeTag: z.string(),
  captureTime: z.optional(z.number()),
  timeZoneOffsetSeconds: z.optional(z.number()),
  isFavorite: z.boolean(),
  isHidden: z.boolean(),
  isDeleted: z.boolean(),
  isExpunged: z.boolean(),
  adjustmentType: z.optional(z.string()),
  deletedBy: z.optional(z.string()),
  trashReason: z.optional(z.number()),
  versions: z.array(assetVersion),
  unavailableVersions: z.optional(z.array(unavailableVersion)),
  description: z.optional(description),
});

/** A Shared Album as the detector listed it (docs/protocol/shared-albums.md). */
const sharedAlbum = sharedAlbumSchema;

/** One unit of work for the download worker. */
export const workItemSchema = z.discriminatedUnion('type', [
  /** Archive what the planner selects of this asset (new, edited, or re-enumerated). */
  z.strictObject({ type: z.literal('asset'), asset }),
  /** The asset record changed without its master (flags, edit, restore): update or archive the rendition. */
  z.strictObject({ type: z.literal('assetOnly'), change: assetOnly }),
  /** iCloud hard-deleted the record (purge). */
  z.strictObject({
    type: z.literal('tombstone'),
    zone: zoneRef,
    recordName: z.string().check(z.minLength(1)),
    inferredType: z.enum(['CPLMaster', 'CPLAsset', 'CPLContainerRelation', 'unknown']),
  }),
  /** An asset joined or left an album. */
  z.strictObject({
    type: z.literal('albumMembership'),
    zone: zoneRef,
    assetRecordName: z.string().check(z.minLength(1)),
    albumRecordName: z.string().check(z.minLength(1)),
    present: z.boolean(),
  }),
  /** A Shared Album changed (or left the account's view, `gone`): read it and archive what is new. */
  z.strictObject({
    type: z.literal('sharedAlbum'),
    album: sharedAlbum,
    gone: z.optional(z.boolean()),
  }),
]);

export const workMessageSchema = z.strictObject({
  v: z.literal(WORK_MESSAGE_VERSION),
  /** The detection run that produced it (for tracing, not identity). */
  runId: z.string(),
  /** When that run started (ms): with `runId`, names its run record, where workers add their counts. */
  runStartedAt: z.optional(z.number()),
  /** When the download URLs inside were issued (ms): older than ~50 minutes means refresh first. */
  issuedAt: z.number(),
  /** The delete mode the purges inside were checked under (`WorkMessage.deleteMode`). */
  deleteMode: z.optional(z.enum(['keep', 'mirror'])),
  items: z.array(workItemSchema).check(z.minLength(1)),
});

/**
 * The wire version detection writes: version 1's message with short keys in its items (a photo's
 * item is about half key names otherwise; issue 12 wants items under 1 KB). Version 1 bodies
 * (still queued, or in the dead-letter queue) are read as before.
 */
export const WIRE_VERSION = 2;

/** Every key an item may hold, and its name on the wire (one name per key, none shared). */
const SHORT_KEYS: Readonly<Record<string, string>> = {
  type: 't',
  asset: 'a',
  change: 'c',
  zone: 'z',
  database: 'zd',
  zoneName: 'zn',
  ownerRecordName: 'zo',
  assetRecordName: 'ar',
  masterRecordName: 'mr',
  assetChangeTag: 'at',
  masterChangeTag: 'mt',
  fileName: 'f',
  fileNameSource: 'fs',
  mediaType: 'm',
  itemType: 'it',
  captureTime: 'ct',
  timeZoneOffsetSeconds: 'tz',
  addedTime: 'ad',
  isFavorite: 'fv',
  isHidden: 'hi',
  isDeleted: 'de',
  isExpunged: 'ex',
  dateExpunged: 'dx',
  adjustmentType: 'aj',
  subtypes: 'st',
  burstId: 'bi',
  contributors: 'cb',
  deletedBy: 'db',
  trashReason: 'tr',
  versions: 'vs',
  unavailableVersions: 'uv',
  kind: 'k',
  resourceField: 'rf',
  size: 's',
  fileChecksum: 'fc',
  uti: 'u',
  downloadUrl: 'url',
  width: 'w',
  height: 'h',
  missing: 'mi',
  recordName: 'rn',
  inferredType: 'ty',
  albumRecordName: 'al',
  present: 'p',
  // What detection read about a photo, for the catalog (docs/archive-layout.md#9-the-catalog).
  description: 'ds',
  title: 'ti',
  caption: 'cp',
  keywords: 'kw',
  location: 'lo',
  latitude: 'la',
  longitude: 'ln',
  altitude: 'alt',
  durationMs: 'du',
  timeZoneName: 'tn',
};
const LONG_KEYS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SHORT_KEYS).map(([long, short]) => [short, long]),
);

/** `value` with every object key renamed through `names`; a key it does not know is an error. */
function renameKeys(value: unknown, names: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(value)) return value.map((element) => renameKeys(element, names));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const renamed = Object.hasOwn(names, key) ? names[key] : undefined;
      if (renamed === undefined) throw new Error(`unknown key in a work item: ${key}`);
      return [renamed, renameKeys(inner, names)];
    }),
  );
}

/**
 * The SQS body of `message` (wire version 2). SQS refuses a body holding U+FFFE or U+FFFF
 * (InvalidMessageContents), which JSON.stringify leaves as they are and a photo's name may hold:
 * they go escaped (`\ufffe`), valid JSON that parses back to the same name.
 */
export function encodeWorkMessage(message: WorkMessage): string {
  return JSON.stringify({
    ...message,
    v: WIRE_VERSION,
    // A Shared Album's item is one per album, small, and has keys of its own: it goes as it is.
    items: message.items.map((item) => (item.type === 'sharedAlbum' ? item : renameKeys(item, SHORT_KEYS))),
  }).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** A version-2 item as the model has it: short keys renamed back, a Shared Album's item as sent. */
function longKeyed(item: unknown): unknown {
  const sharedAlbum =
    item !== null && typeof item === 'object' && (item as { type?: unknown }).type === 'sharedAlbum';
  return sharedAlbum ? item : renameKeys(item, LONG_KEYS);
}

/** Parses an SQS body (wire version 1 or 2). Throws (classified fatal) when it is not ours. */
export function parseWorkMessage(body: string): WorkMessage {
  const raw: unknown = JSON.parse(body);
  const wire = z.looseObject({ v: z.number(), items: z.array(z.unknown()) }).safeParse(raw);
  if (wire.success && wire.data.v === WIRE_VERSION) {
    return workMessageSchema.parse({
      ...wire.data,
      v: WORK_MESSAGE_VERSION,
      items: wire.data.items.map(longKeyed),
    });
  }
  return workMessageSchema.parse(raw);
}

// Compile-time proof that the wire format and the domain model stay in step: a parsed item is a
// model value, and the schema knows every key of the model (strict parsing would reject the rest).
type Fits<A, B> = [A] extends [B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type AssertTrue<T extends true> = T;
export type _AssetMatchesModel = AssertTrue<Fits<z.infer<typeof asset>, Asset>>;
export type _AssetOnlyMatchesModel = AssertTrue<Fits<z.infer<typeof assetOnly>, AssetOnlyChange>>;
export type _SharedAlbumMatchesModel = AssertTrue<Fits<z.infer<typeof sharedAlbum>, SharedAlbum>>;
export type _ZoneMatchesModel = AssertTrue<Fits<z.infer<typeof zoneRef>, ZoneRef>>;
export type _MessageMatchesModel = AssertTrue<Fits<z.infer<typeof workMessageSchema>, WorkMessage>>;
