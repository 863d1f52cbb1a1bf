/**
 * The wire format of a work message (`domain/model/work.ts`) on the queue. Our own format, so parsing is strict: an unknown key is
 * an error, and a message that does not parse is a bug, never retried.
 *
 * Messages may carry signed download URLs (valid about an hour): never log a message body.
 */
import { z } from 'zod';
import { type Asset, type AssetOnlyChange, VERSION_KINDS } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';

const zoneRef = z.strictObject({
  database: z.enum(['private', 'shared']),
  zoneName: z.string().min(1),
  ownerRecordName: z.string().optional(),
});

const versionKind = z.enum(VERSION_KINDS);

const unavailableVersion = z.strictObject({
  kind: versionKind,
  resourceField: z.string(),
  missing: z.array(z.enum(['downloadURL', 'size', 'fileChecksum'])),
});

const assetVersion = z.strictObject({
  kind: versionKind,
  resourceField: z.string(),
  size: z.number().int().nonnegative(),
  fileChecksum: z.string(),
  uti: z.string(),
  downloadUrl: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
});

const description = z.strictObject({
  title: z.string().optional(),
  caption: z.string().optional(),
  keywords: z.array(z.string()).optional(),
  location: z
    .strictObject({ latitude: z.number(), longitude: z.number(), altitude: z.number().optional() })
    .optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  durationMs: z.number().optional(),
  timeZoneName: z.string().optional(),
});

const asset = z.strictObject({
  zone: zoneRef,
  assetRecordName: z.string().min(1),
  masterRecordName: z.string().min(1),
  assetChangeTag: z.string(),
  masterChangeTag: z.string(),
  fileName: z.string(),
  fileNameSource: z.enum(['filenameEnc', 'fallback']),
  mediaType: z.enum(['photo', 'video']),
  itemType: z.string().optional(),
  captureTime: z.number(),
  timeZoneOffsetSeconds: z.number().optional(),
  addedTime: z.number().optional(),
  isFavorite: z.boolean(),
  isHidden: z.boolean(),
  isDeleted: z.boolean(),
  isExpunged: z.boolean(),
  dateExpunged: z.number().optional(),
  adjustmentType: z.string().optional(),
  subtypes: z.array(z.enum(['live', 'screenshot', 'slomo', 'burst', 'panorama', 'timelapse', 'raw+jpeg'])),
  burstId: z.string().optional(),
  contributors: z.array(z.string()).optional(),
  deletedBy: z.string().optional(),
  trashReason: z.number().optional(),
  versions: z.array(assetVersion),
  unavailableVersions: z.array(unavailableVersion).optional(),
  description: description.optional(),
});

const assetOnly = z.strictObject({
  zone: zoneRef,
  assetRecordName: z.string().min(1),
  masterRecordName: z.string().min(1),
  assetChangeTag: z.string(),
  captureTime: z.number().optional(),
  timeZoneOffsetSeconds: z.number().optional(),
  isFavorite: z.boolean(),
  isHidden: z.boolean(),
  isDeleted: z.boolean(),
  isExpunged: z.boolean(),
  adjustmentType: z.string().optional(),
  deletedBy: z.string().optional(),
  trashReason: z.number().optional(),
  versions: z.array(assetVersion),
  unavailableVersions: z.array(unavailableVersion).optional(),
  description: description.optional(),
});

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
    recordName: z.string().min(1),
    inferredType: z.enum(['CPLMaster', 'CPLAsset', 'CPLContainerRelation', 'unknown']),
  }),
  /** An asset joined or left an album. */
  z.strictObject({
    type: z.literal('albumMembership'),
    zone: zoneRef,
    assetRecordName: z.string().min(1),
    albumRecordName: z.string().min(1),
    present: z.boolean(),
  }),
]);

export const workMessageSchema = z.strictObject({
  v: z.literal(WORK_MESSAGE_VERSION),
  /** The detection run that produced it (for tracing, not identity). */
  runId: z.string(),
  /** When that run started (ms): with `runId`, names its run record, where workers add their counts. */
  runStartedAt: z.number().optional(),
  /** When the download URLs inside were issued (ms): older than ~50 minutes means refresh first. */
  issuedAt: z.number(),
  items: z.array(workItemSchema).min(1),
});

/** Parses an SQS body. Throws a ZodError (classified fatal) when it is not ours. */
export function parseWorkMessage(body: string): WorkMessage {
  return workMessageSchema.parse(JSON.parse(body));
}

// Compile-time proof that the wire format and the domain model stay in step: a parsed item is a
// model value, and the schema knows every key of the model (strict parsing would reject the rest).
type Fits<A, B> = [A] extends [B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type AssertTrue<T extends true> = T;
export type _AssetMatchesModel = AssertTrue<Fits<z.infer<typeof asset>, Asset>>;
export type _AssetOnlyMatchesModel = AssertTrue<Fits<z.infer<typeof assetOnly>, AssetOnlyChange>>;
export type _ZoneMatchesModel = AssertTrue<Fits<z.infer<typeof zoneRef>, ZoneRef>>;
export type _MessageMatchesModel = AssertTrue<Fits<z.infer<typeof workMessageSchema>, WorkMessage>>;
