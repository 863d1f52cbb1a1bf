/**
 * `records/lookup` (docs/protocol/cloudkit.md#records-lookup, S70, S143 in docs/protocol/simulator-contract.md): the current version of each named record,
 * whatever its index membership (trashed included), with freshly minted download URLs. A name that
 * cannot be returned comes back in its place inside `records` as `{recordName, serverErrorCode,
 * reason}` without `fields`: unknown names, the `inlineErrors` quirk, and the `lookupErrors` quirk
 * (records that exist and are served elsewhere, but not by lookup).
 */
import * as z from 'zod';
import { keyOfRecordName, recordExists } from '../library/record-names.ts';
import type { SimReply } from '../types.ts';
import { collectionOf, collectionRecord } from './collection-zones.ts';
import { type CloudKitContext, ckJson } from './context.ts';
import { foreignZoneOf } from './foreign-zones.ts';
import { buildRecord, type RecordContext } from './records.ts';

const lookupBody = z
  .object({
    records: z.array(z.object({ recordName: z.string() }).loose()),
    zoneID: z.unknown().optional(),
    desiredKeys: z.array(z.string()).optional(),
  })
  .loose();

export function handleLookup(ctx: CloudKitContext, json: unknown): SimReply {
  const parsed = lookupBody.safeParse(json);
  if (!parsed.success) return ctx.error(400, 'BAD_REQUEST', 'Invalid request');
  const body = parsed.data;
  // S54: no zoneID is `_defaultZone`, where no Photos record lives.
  if (body.zoneID === undefined) return ckJson({ records: body.records.map((r) => notFound(r.recordName)) });
  const zone = ctx.resolveZone(body.zoneID);
  if (zone === undefined) {
    const collection = collectionOf(ctx, body.zoneID);
    if (collection) {
      // SA-30: the share record (and the album's items) by name; a removed item's asset stays readable.
      const names = new Set(collection.log);
      const records = body.records.map(({ recordName }) =>
        names.has(recordName) ? collectionRecord(ctx, collection, recordName) : notFound(recordName),
      );
      return ckJson({ records });
    }
    if (!foreignZoneOf(ctx, body.zoneID)) return ctx.error(404, 'ZONE_NOT_FOUND', 'Zone does not exist');
    // S139-S140 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: no photo records live there.
    const records = body.records.map(({ recordName }) => notFound(recordName));
    return ckJson({ records });
  }
  const rc: RecordContext = {
    library: ctx.library,
    requestUuid: ctx.requestUuid,
    ...(body.desiredKeys ? { desiredKeys: new Set(body.desiredKeys) } : {}),
  };
  const failing = ctx.library.quirks.inlineErrors;
  const unanswerable = ctx.library.quirks.lookupErrors;
  const records = body.records.map(({ recordName }) => {
    const key = keyOfRecordName(ctx.library.core, zone, recordName);
    if (!key || !recordExists(ctx.library.core, zone, key) || unanswerable.includes(recordName)) {
      return notFound(recordName);
    }
    if (failing.includes(recordName)) {
      return { recordName, serverErrorCode: 'INTERNAL_ERROR', reason: 'Could not read record' };
    }
    return buildRecord(rc, zone, key);
  });
  return ckJson(ctx.wantsSyncToken ? { records, syncToken: ctx.currentZoneToken(zone) } : { records });
}

function notFound(recordName: string) {
  return { recordName, serverErrorCode: 'NOT_FOUND', reason: 'Record not found' };
}
