/**
 * `zones/list`, `changes/database` and `changes/zone` (docs/protocol/cloudkit.md#zones, docs/protocol/sync-tokens.md, S51, S73-S89 in docs/protocol/simulator-contract.md).
 *
 * A `changes/zone` page starts at the token's log position and scans at most `SCAN_WINDOW`
 * positions, emitting each record whose latest change lies there (current state, or a tombstone),
 * until `min(resultsLimit, 200)` records are out. Superseded positions emit nothing, so a stretch of
 * the log holding only superseded entries reads as empty pages with `moreComing: true`.
 */
import * as z from 'zod';
import type { ZoneKey } from '../library/model.ts';
import type { SimReply } from '../types.ts';
import {
  collectionOf,
  collectionZoneChanges,
  collectionZoneChangesPage,
  collectionZoneEntries,
} from './collection-zones.ts';
import { type CloudKitContext, ckJson } from './context.ts';
import {
  failedZoneEntries,
  foreignZoneOf,
  foreignZoneRecords,
  foreignZones,
  foreignZoneToken,
} from './foreign-zones.ts';
import { buildRecord, type CkRecord, type RecordContext, zoneIdOf } from './records.ts';

export const SCAN_WINDOW = 200;

/** The non-photo zones of S52, S139-S140 in docs/protocol/simulator-contract.md with their tokens, as `zones/list` and `changes/database` list them. */
function otherAppZones(ctx: CloudKitContext): { zoneID: Record<string, string>; syncToken: string }[] {
  return foreignZones(ctx).map((zone) => ({
    zoneID: { ...zone.zoneID },
    syncToken: foreignZoneToken(ctx, zone),
  }));
}
const MAX_RESULTS = 200;

export function handleZonesList(ctx: CloudKitContext): SimReply {
  const cassette = ctx.library.quirks.cassetteShapes;
  // Zone objects carry zoneType in every recording (2023 cassettes, pyicloud); only the per-zone
  // token and `deleted` are absent from the cassette shape.
  const zones = ctx.zones().map((zone) => {
    const info = ctx.library.core.zone(zone);
    const zoneID = {
      zoneName: info.zoneName,
      ownerRecordName: info.ownerRecordName,
      zoneType: 'REGULAR_CUSTOM_ZONE',
    };
    return cassette ? { zoneID } : { zoneID, syncToken: ctx.currentZoneToken(zone), deleted: false };
  });
  const others = otherAppZones(ctx).map((z) => ({ ...z, deleted: false }));
  return ckJson({
    moreComing: false,
    syncToken: databaseToken(ctx),
    zones: [...zones, ...others, ...collectionZoneEntries(ctx), ...failedZoneEntries(ctx)],
  });
}

function databaseToken(ctx: CloudKitContext): string {
  return ctx.tokens.databaseToken(ctx.databaseScope(), ctx.library.core.seq);
}

const databaseBody = z.object({ syncToken: z.string().optional() }).loose();

export function handleDatabaseChanges(ctx: CloudKitContext, json: unknown): SimReply {
  const parsed = databaseBody.safeParse(json ?? {});
  if (!parsed.success) return ctx.error(400, 'BAD_REQUEST', 'Invalid request');
  const token = parsed.data.syncToken;
  let since: number | undefined;
  if (token !== undefined && token !== '') {
    // S87: an expired token is refused like one it cannot read (a top-level 400 BAD_REQUEST).
    if (ctx.library.quirks.expiredTokens.includes(token))
      return ctx.error(400, 'BAD_REQUEST', 'Sync token has expired');
    const decoded = ctx.tokens.decode(token);
    if (!decoded.ok) return ctx.error(400, 'BAD_REQUEST', decoded.reason);
    if (decoded.kind !== 'database' || !decoded.scope.equals(ctx.databaseScope())) {
      return ctx.error(400, 'BAD_REQUEST', 'Unknown sync continuation type');
    }
    since = decoded.position;
  } else if (token === '') {
    since = ctx.library.core.seq;
  }
  const logs = ctx.library.core.logs;
  const zones = ctx
    .zones()
    .filter((zone) => since === undefined || logs[zone].lastSeq > since)
    .map((zone) => ({ zoneID: zoneIdOf(ctx.library, zone), syncToken: ctx.currentZoneToken(zone) }));
  return ckJson({
    syncToken: databaseToken(ctx),
    moreComing: false,
    zones: [...zones, ...otherAppZones(ctx), ...collectionZoneChanges(ctx, since)],
  });
}

const zoneEntry = z
  .object({
    zoneID: z.unknown(),
    syncToken: z.string().optional(),
    resultsLimit: z.number().optional(),
    desiredKeys: z.array(z.string()).optional(),
    desiredRecordTypes: z.array(z.string()).optional(),
  })
  .loose();
const zoneChangesBody = z
  .object({
    zones: z.array(zoneEntry),
    resultsLimit: z.number().optional(),
    desiredKeys: z.array(z.string()).optional(),
  })
  .loose();

export function handleZoneChanges(ctx: CloudKitContext, json: unknown): SimReply {
  const parsed = zoneChangesBody.safeParse(json);
  if (!parsed.success) return ctx.error(400, 'BAD_REQUEST', 'Invalid request');
  const body = parsed.data;
  const zones = body.zones.map((entry) => zoneChanges(ctx, entry, body.resultsLimit, body.desiredKeys));
  return ckJson({ zones });
}

function zoneError(zoneID: unknown, serverErrorCode: string, reason: string) {
  return { zoneID, serverErrorCode, reason };
}

function zoneChanges(
  ctx: CloudKitContext,
  entry: z.infer<typeof zoneEntry>,
  topLimit: number | undefined,
  topKeys: string[] | undefined,
): Record<string, unknown> {
  const zone = ctx.resolveZone(entry.zoneID);
  if (zone === undefined) {
    const collection = collectionOf(ctx, entry.zoneID);
    if (collection)
      return collectionZoneChangesPage(ctx, collection, entry.syncToken, entry.resultsLimit ?? topLimit);
    const foreign = foreignZoneOf(ctx, entry.zoneID);
    if (foreign === undefined) return zoneError(entry.zoneID, 'ZONE_NOT_FOUND', 'Zone does not exist');
    // S140 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: changes/zone works in them; read from the start it serves their few records.
    return {
      zoneID: { ...foreign.zoneID },
      syncToken: foreignZoneToken(ctx, foreign),
      moreComing: false,
      records: entry.syncToken ? [] : foreignZoneRecords(ctx, foreign),
    };
  }
  const log = ctx.library.core.logs[zone];
  const token = entry.syncToken;
  let position = 0;
  if (token === '') {
    position = log.end;
  } else if (token !== undefined) {
    if (ctx.library.quirks.expiredTokens.includes(token)) {
      return zoneError(entry.zoneID, 'BAD_REQUEST', 'Sync token has expired');
    }
    const decoded = ctx.tokens.decode(token);
    if (!decoded.ok) return zoneError(entry.zoneID, 'BAD_REQUEST', decoded.reason);
    if (decoded.kind !== 'zone' || !decoded.scope.equals(ctx.zoneScope(zone)) || decoded.position > log.end) {
      return zoneError(entry.zoneID, 'BAD_REQUEST', 'Unknown sync continuation type');
    }
    position = decoded.position;
  }
  const limit = Math.max(1, Math.min(Math.floor(entry.resultsLimit ?? topLimit ?? MAX_RESULTS), MAX_RESULTS));
  const keys = entry.desiredKeys ?? topKeys;
  const rc: RecordContext = {
    library: ctx.library,
    requestUuid: ctx.requestUuid,
    ...(keys ? { desiredKeys: new Set(keys) } : {}),
  };
  const records: CkRecord[] = [];
  const windowEnd = Math.min(log.end, position + SCAN_WINDOW);
  // desiredRecordTypes is deliberately ignored: Apple's filtering there is unreliable (S81 in docs/protocol/simulator-contract.md#change-feeds).
  while (position < windowEnd && records.length < limit) {
    const live = log.liveAt(position);
    if (live) records.push(buildRecord(rc, zone as ZoneKey, live.key));
    position += 1;
  }
  const moreComing = position < log.end;
  return {
    zoneID: zoneIdOf(ctx.library, zone),
    syncToken: ctx.tokens.zoneToken(ctx.zoneScope(zone), position),
    moreComing: ctx.library.quirks.moreComingNull ? null : moreComing,
    records,
  };
}
