/**
 * Shapes of CloudKit's answers for Photos (docs/protocol/cloudkit.md, docs/protocol/sync-tokens.md), lenient at the edges: unknown keys
 * pass, records stay `unknown` here and are read one by one by the records mapping (so one bad
 * record never fails a page). What these schemas require is what the client cannot work without.
 */
import * as z from '#shared/zod.ts';

export const zoneIdSchema = z.looseObject({
  zoneName: z.string().check(z.minLength(1)),
  ownerRecordName: z.catch(z.optional(z.string()), undefined),
  zoneType: z.catch(z.optional(z.string()), undefined),
});
export type WireZoneId = z.infer<typeof zoneIdSchema>;

const zoneEntrySchema = z.looseObject({
  zoneID: zoneIdSchema,
  syncToken: z.catch(z.optional(z.string()), undefined),
  deleted: z.catch(z.nullish(z.boolean()), undefined),
});
export type WireZoneEntry = z.infer<typeof zoneEntrySchema>;

/** `zones/list` (docs/protocol/cloudkit.md#zones). */
export const zonesListSchema = z.looseObject({
  zones: z.array(zoneEntrySchema),
  syncToken: z.catch(z.optional(z.string()), undefined),
  moreComing: z.catch(z.nullish(z.boolean()), undefined),
});

/** `changes/database` (docs/protocol/sync-tokens.md#changes-database). */
export const changesDatabaseSchema = z.looseObject({
  zones: z.array(zoneEntrySchema),
  syncToken: z.string().check(z.minLength(1)),
  moreComing: z.catch(z.nullish(z.boolean()), undefined),
});

/** A zone-level error inside a 200 answer (docs/protocol/sync-tokens.md#zone-errors). */
const zoneErrorEntrySchema = z.looseObject({
  zoneID: z.catch(z.optional(zoneIdSchema), undefined),
  serverErrorCode: z.string().check(z.minLength(1)),
  reason: z.catch(z.optional(z.string()), undefined),
  retryAfter: z.catch(z.optional(z.number()), undefined),
});

export type WireErrorEntry = z.infer<typeof zoneErrorEntrySchema>;

/** True for an error entry of a `zones` or `batch` array. */
export function isErrorEntry(entry: object): entry is WireErrorEntry {
  return typeof (entry as { serverErrorCode?: unknown }).serverErrorCode === 'string';
}

const zoneChangesEntrySchema = z.looseObject({
  zoneID: z.catch(z.optional(zoneIdSchema), undefined),
  syncToken: z.string().check(z.minLength(1)),
  moreComing: z.nullish(z.boolean()),
  records: z.array(z.unknown()),
});

/** `changes/zone` (docs/protocol/sync-tokens.md#changes-zone): one entry per zone asked about, a page of records or an error. */
export const changesZoneSchema = z.looseObject({
  zones: z.array(z.union([zoneErrorEntrySchema, zoneChangesEntrySchema])).check(z.minLength(1)),
});

/** `records/query` (docs/protocol/cloudkit.md#query-pages). */
export const recordsQuerySchema = z.looseObject({
  records: z.array(z.unknown()),
  continuationMarker: z.catch(z.optional(z.string().check(z.minLength(1))), undefined),
  syncToken: z.catch(z.optional(z.string().check(z.minLength(1))), undefined),
});

/** `records/lookup` (docs/protocol/cloudkit.md#records-lookup). */
export const recordsLookupSchema = z.looseObject({
  records: z.array(z.unknown()),
  syncToken: z.catch(z.optional(z.string().check(z.minLength(1))), undefined),
});

/** `internal/records/query/batch` (docs/protocol/cloudkit.md#counts): one entry per query sent, records or an error. */
export const queryBatchSchema = z.looseObject({
  batch: z.array(
    z.union([
      zoneErrorEntrySchema,
      z.looseObject({ records: z.array(z.unknown()), syncToken: z.catch(z.optional(z.string()), undefined) }),
    ]),
  ),
});

/** A top-level error body (docs/protocol/cloudkit.md#errors level 2), with HTTP 200 or an error status. */
export const topLevelErrorSchema = z.looseObject({
  serverErrorCode: z.string().check(z.minLength(1)),
  reason: z.catch(z.optional(z.string()), undefined),
  serverErrorMessage: z.catch(z.optional(z.string()), undefined),
  retryAfter: z.catch(z.optional(z.number()), undefined),
});
export type WireTopLevelError = z.infer<typeof topLevelErrorSchema>;

/** The cookie-problem body (`{"reason": "Missing X-APPLE-WEBAUTH-TOKEN cookie", "error": 1}`). */
export const reasonOnlyErrorSchema = z.looseObject({
  reason: z.string(),
  error: z.optional(z.unknown()),
});
