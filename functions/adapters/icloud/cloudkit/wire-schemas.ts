/**
 * Shapes of CloudKit's answers for Photos (docs/protocol/cloudkit.md, docs/protocol/sync-tokens.md), lenient at the edges: unknown keys
 * pass, records stay `unknown` here and are read one by one by the records mapping (so one bad
 * record never fails a page). What these schemas require is what the client cannot work without.
 */
import * as z from 'zod';

export const zoneIdSchema = z.looseObject({
  zoneName: z.string().min(1),
  ownerRecordName: z.string().optional().catch(undefined),
  zoneType: z.string().optional().catch(undefined),
});
export type WireZoneId = z.infer<typeof zoneIdSchema>;

const zoneEntrySchema = z.looseObject({
  zoneID: zoneIdSchema,
  syncToken: z.string().optional().catch(undefined),
  deleted: z.boolean().nullish().catch(undefined),
});
export type WireZoneEntry = z.infer<typeof zoneEntrySchema>;

/** `zones/list` (docs/protocol/cloudkit.md#zones). */
export const zonesListSchema = z.looseObject({
  zones: z.array(zoneEntrySchema),
  syncToken: z.string().optional().catch(undefined),
  moreComing: z.boolean().nullish().catch(undefined),
});

/** `changes/database` (docs/protocol/sync-tokens.md#changes-database). */
export const changesDatabaseSchema = z.looseObject({
  zones: z.array(zoneEntrySchema),
  syncToken: z.string().min(1),
  moreComing: z.boolean().nullish().catch(undefined),
});

/** A zone-level error inside a 200 answer (docs/protocol/sync-tokens.md#zone-errors). */
const zoneErrorEntrySchema = z.looseObject({
  zoneID: zoneIdSchema.optional().catch(undefined),
  serverErrorCode: z.string().min(1),
  reason: z.string().optional().catch(undefined),
  retryAfter: z.number().optional().catch(undefined),
});

export type WireErrorEntry = z.infer<typeof zoneErrorEntrySchema>;

/** True for an error entry of a `zones` or `batch` array. */
export function isErrorEntry(entry: object): entry is WireErrorEntry {
  return typeof (entry as { serverErrorCode?: unknown }).serverErrorCode === 'string';
}

const zoneChangesEntrySchema = z.looseObject({
  zoneID: zoneIdSchema.optional().catch(undefined),
  syncToken: z.string().min(1),
  moreComing: z.boolean().nullish(),
  records: z.array(z.unknown()),
});

/** `changes/zone` (docs/protocol/sync-tokens.md#changes-zone): one entry per zone asked about, a page of records or an error. */
export const changesZoneSchema = z.looseObject({
  zones: z.array(z.union([zoneErrorEntrySchema, zoneChangesEntrySchema])).min(1),
});

/** `records/query` (docs/protocol/cloudkit.md#query-pages). */
export const recordsQuerySchema = z.looseObject({
  records: z.array(z.unknown()),
  continuationMarker: z.string().min(1).optional().catch(undefined),
  syncToken: z.string().min(1).optional().catch(undefined),
});

/** `records/lookup` (docs/protocol/cloudkit.md#records-lookup). */
export const recordsLookupSchema = z.looseObject({
  records: z.array(z.unknown()),
  syncToken: z.string().min(1).optional().catch(undefined),
});

/** `internal/records/query/batch` (docs/protocol/cloudkit.md#counts): one entry per query sent, records or an error. */
export const queryBatchSchema = z.looseObject({
  batch: z.array(
    z.union([
      zoneErrorEntrySchema,
      z.looseObject({ records: z.array(z.unknown()), syncToken: z.string().optional().catch(undefined) }),
    ]),
  ),
});

/** A top-level error body (docs/protocol/cloudkit.md#errors level 2), with HTTP 200 or an error status. */
export const topLevelErrorSchema = z.looseObject({
  serverErrorCode: z.string().min(1),
  reason: z.string().optional().catch(undefined),
  serverErrorMessage: z.string().optional().catch(undefined),
  retryAfter: z.number().optional().catch(undefined),
});
export type WireTopLevelError = z.infer<typeof topLevelErrorSchema>;

/** The cookie-problem body (`{"reason": "Missing X-APPLE-WEBAUTH-TOKEN cookie", "error": 1}`). */
export const reasonOnlyErrorSchema = z.looseObject({
  reason: z.string(),
  error: z.unknown().optional(),
});
