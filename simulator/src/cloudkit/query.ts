/**
 * `records/query` and `internal/records/query/batch` (docs/protocol/cloudkit.md, S55-S69 in docs/protocol/simulator-contract.md#records-query):
 * CheckIndexingState, the list indexes (pairs or triples per photo, masters before assets, rank 0 =
 * newest with ASCENDING), album lists, and HyperionIndexCountLookup counts.
 */
import * as z from 'zod';
import type { IndexSpec, SmartAlbum } from '../library/indexes.ts';
import { SMART_ALBUMS } from '../library/indexes.ts';
import { OWNER_PRIMARY, SHARED_ZONE, type ZoneKey } from '../library/model.ts';
import { hashString } from '../library/prng.ts';
import type { SimReply } from '../types.ts';
import { collectionOf } from './collection-zones.ts';
import { type CloudKitContext, ckJson } from './context.ts';
import { foreignZoneOf, INVALID_INDEX_REASON } from './foreign-zones.ts';
import {
  buildRecord,
  type CkRecord,
  checkIndexingRecord,
  indexCountRecord,
  type RecordContext,
} from './records.ts';

const MAX_RESULTS = 200;

const filterSchema = z
  .object({
    fieldName: z.string(),
    comparator: z.string().optional(),
    fieldValue: z.object({ value: z.unknown(), type: z.string().optional() }).loose().optional(),
  })
  .loose();

/** Lenient: Apple's clients send extra keys and filterBy as an array or (batch) an object. */
export const querySchema = z
  .object({
    query: z
      .object({
        recordType: z.string(),
        filterBy: z.union([z.array(filterSchema), filterSchema]).optional(),
      })
      .loose(),
    resultsLimit: z.number().optional(),
    desiredKeys: z.array(z.string()).optional(),
    zoneID: z.unknown().optional(),
    zoneWide: z.boolean().optional(),
    continuationMarker: z.string().optional(),
  })
  .loose();
type QueryBody = z.infer<typeof querySchema>;

const LIST_INDEXES: Readonly<Record<string, IndexSpec['kind']>> = {
  CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted: 'all',
  CPLAssetAndMasterByAssetDate: 'all',
  CPLAssetAndMasterByAddedDate: 'added',
  CPLAssetAndMasterDeletedByExpungedDate: 'deleted',
  CPLAssetAndMasterHiddenByAssetDate: 'hidden',
  CPLAssetAndMasterInSmartAlbumByAssetDate: 'smart',
  CPLBurstStackAssetAndMasterByAssetDate: 'bursts',
  CPLContainerRelationLiveByAssetDate: 'album',
  CPLContainerRelationLiveByPosition: 'album',
};

const COUNT_INDEXES: Readonly<Record<string, IndexSpec['kind']>> = {
  CPLAssetByAssetDateWithoutHiddenOrDeleted: 'all',
  CPLAssetByAddedDate: 'added',
  CPLAssetDeletedByExpungedDate: 'deleted',
  CPLAssetHiddenByAssetDate: 'hidden',
  CPLAssetInSmartAlbumByAssetDate: 'smart',
  CPLAssetBurstStackAssetByAssetDate: 'bursts',
  CPLContainerRelationNotDeletedByAssetDate: 'album',
};

type Filters = ReadonlyMap<string, unknown>;

function filtersOf(body: QueryBody): Filters {
  const raw = body.query.filterBy;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return new Map(list.map((f) => [f.fieldName, f.fieldValue?.value]));
}

/**
 * Zone of a query body. Without `zoneID`, Apple searches all zones when `zoneWide: true` (here the
 * caller's first library zone in this database, its own PrimarySync in `private`) and else
 * `_defaultZone`, which holds no Photos index: `undefined` then, answered by `noZoneAnswer` (S54).
 */
function zoneOfBody(ctx: CloudKitContext, body: QueryBody): ZoneKey | undefined {
  if (body.zoneID === undefined) return body.zoneWide === true ? ctx.zones()[0] : undefined;
  return ctx.resolveZone(body.zoneID);
}

/** The error of a query whose zone holds no Photos index, or is unknown (S53, S54, S139). */
function noZoneAnswer(
  ctx: CloudKitContext,
  body: QueryBody,
): { status: number; code: string; reason: string } {
  // S54: `_defaultZone` (no zoneID, no zoneWide) has no Photos index, like the zones of S139.
  if (body.zoneID === undefined || foreignZoneOf(ctx, body.zoneID) || collectionOf(ctx, body.zoneID))
    return { status: 400, code: 'BAD_REQUEST', reason: INVALID_INDEX_REASON };
  return { status: 404, code: 'ZONE_NOT_FOUND', reason: 'Zone does not exist' };
}

export function handleQuery(ctx: CloudKitContext, json: unknown): SimReply {
  const parsed = querySchema.safeParse(json);
  if (!parsed.success) return ctx.error(400, 'BAD_REQUEST', 'Invalid query');
  const body = parsed.data;
  const zone = zoneOfBody(ctx, body);
  if (zone === undefined) {
    const { status, code, reason } = noZoneAnswer(ctx, body);
    return ctx.error(status, code, reason);
  }
  const result = runQuery(ctx, zone, body, true);
  if ('error' in result) return result.error;
  return ckJson(result.value);
}

/** `internal/records/query/batch`: each entry a query, answered in order. */
export function handleBatch(ctx: CloudKitContext, json: unknown): SimReply {
  const parsed = z
    .object({ batch: z.array(z.unknown()) })
    .loose()
    .safeParse(json);
  if (!parsed.success) return ctx.error(400, 'BAD_REQUEST', 'Invalid batch');
  const out: unknown[] = [];
  for (const entry of parsed.data.batch) {
    const body = querySchema.safeParse(entry);
    if (!body.success) {
      out.push({ serverErrorCode: 'BAD_REQUEST', reason: 'Invalid query' });
      continue;
    }
    const zone = zoneOfBody(ctx, body.data);
    if (zone === undefined) {
      const { code, reason } = noZoneAnswer(ctx, body.data);
      out.push({ serverErrorCode: code, reason });
      continue;
    }
    const result = runQuery(ctx, zone, body.data, false);
    out.push('error' in result ? (result.error.body as { value: unknown }).value : result.value);
  }
  return ckJson({ batch: out });
}

type QueryResult = { value: Record<string, unknown> } | { error: SimReply };

function runQuery(ctx: CloudKitContext, zone: ZoneKey, body: QueryBody, pageable: boolean): QueryResult {
  const library = ctx.library;
  const recordType = body.query.recordType;
  const filters = filtersOf(body);
  const now = ctx.clock.now();
  const withToken = (value: Record<string, unknown>) => {
    if (ctx.wantsSyncToken) value.syncToken = ctx.currentZoneToken(zone);
    return { value };
  };
  if (recordType === 'CheckIndexingState')
    return withToken({ records: [checkIndexingRecord(library, zone, now)] });
  if (recordType === 'HyperionIndexCountLookup') {
    const ids = filters.get('indexCountID');
    const names = Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
    const records = names.map((name) =>
      indexCountRecord(
        library,
        zone,
        name,
        Math.max(0, countOf(ctx, zone, name) + library.quirks.countDrift),
        now,
      ),
    );
    return withToken({ records });
  }
  const rc: RecordContext = {
    library,
    requestUuid: ctx.requestUuid,
    ...(body.desiredKeys ? { desiredKeys: new Set(body.desiredKeys) } : {}),
  };
  const limit = Math.max(1, Math.min(Math.floor(body.resultsLimit ?? MAX_RESULTS), MAX_RESULTS));
  if (recordType === 'CPLAlbumByPositionLive') {
    const parent = filters.get('parentId');
    const albums =
      zone === OWNER_PRIMARY
        ? library.core.state.albums.filter((a) => {
            if (a.deleted) return false;
            const parentName =
              a.parentIndex === undefined ? undefined : library.core.state.albums[a.parentIndex]?.recordName;
            return parent === undefined ? parentName === undefined : parentName === parent;
          })
        : [];
    // Ordered by position, as recorded (0 for the root folder, then 654, 1032, …).
    albums.sort((a, b) => a.position - b.position || a.index - b.index);
    const records = albums.map((a) => buildRecord(rc, zone, { t: 'album', album: a.index }));
    return withToken(pageRecords(ctx, records, body, limit, pageable, recordType));
  }
  const kind = LIST_INDEXES[recordType];
  if (kind === undefined) {
    return { error: ctx.error(400, 'BAD_REQUEST', `Type is not marked indexable: ${recordType}`) };
  }
  const spec = specOf(ctx, kind, filters, recordType === 'CPLContainerRelationLiveByPosition');
  const supported = spec !== undefined && (zone !== SHARED_ZONE || sharedSupports(spec));
  const slots = supported ? library.indexes.slots(zone, spec) : new Uint32Array(0);
  return withToken(
    pagePhotos(ctx, rc, zone, slots, spec?.kind === 'album' ? spec.album : undefined, body, filters, limit),
  );
}

/** S65 in docs/protocol/simulator-contract.md#records-query: the Shared Library serves all-photos, added, trash, hidden and Favorites; other indexes come back empty. */
function sharedSupports(spec: IndexSpec): boolean {
  return (
    spec.kind !== 'album' && spec.kind !== 'bursts' && (spec.kind !== 'smart' || spec.album === 'FAVORITE')
  );
}

function specOf(
  ctx: CloudKitContext,
  kind: IndexSpec['kind'],
  filters: Filters,
  byPosition = false,
): IndexSpec | undefined {
  switch (kind) {
    case 'smart': {
      const name = String(filters.get('smartAlbum') ?? '').toUpperCase();
      return SMART_ALBUMS.includes(name as SmartAlbum) ? { kind, album: name as SmartAlbum } : undefined;
    }
    case 'album': {
      const parent = filters.get('parentId');
      const album = typeof parent === 'string' ? ctx.library.core.albumIndex(parent) : undefined;
      const state = album === undefined ? undefined : ctx.library.core.state.albums[album];
      if (!state || state.recordName !== parent) return undefined;
      return byPosition ? { kind, album: state.index, byPosition } : { kind, album: state.index };
    }
    default:
      return { kind } as IndexSpec;
  }
}

function countOf(ctx: CloudKitContext, zone: ZoneKey, name: string): number {
  const colon = name.indexOf(':');
  const base = colon >= 0 ? name.slice(0, colon) : name;
  const arg = colon >= 0 ? name.slice(colon + 1) : undefined;
  const kind = COUNT_INDEXES[base];
  if (kind === undefined) return 0;
  let spec: IndexSpec | undefined;
  if (kind === 'smart') {
    const upper = (arg ?? '').toUpperCase();
    spec = SMART_ALBUMS.includes(upper as SmartAlbum) ? { kind, album: upper as SmartAlbum } : undefined;
  } else if (kind === 'album') {
    const index =
      arg === undefined ? undefined : ctx.library.core.state.albums.findIndex((a) => a.recordName === arg);
    spec = index === undefined || index < 0 ? undefined : { kind, album: index };
  } else {
    spec = { kind } as IndexSpec;
  }
  if (!spec || (zone === SHARED_ZONE && !sharedSupports(spec))) return 0;
  return ctx.library.indexes.slots(zone, spec).length;
}

/** Continuation markers: protobuf-looking bytes around the next record offset and a query hash. */
function encodeMarker(offset: number, queryKey: string): string {
  const head = Buffer.alloc(8);
  head[0] = 0x12;
  head[1] = 0x06;
  head.writeUIntBE(offset, 2, 6);
  const key = Buffer.from(queryKey, 'utf8').subarray(0, 200);
  return Buffer.concat([
    head,
    Buffer.from([0x1a, key.length + 2, 0x0a, key.length]),
    key,
    Buffer.from([0x10, 0x01]),
  ]).toString('base64');
}

function decodeMarker(marker: string): number | undefined {
  const bytes = Buffer.from(marker, 'base64');
  if (bytes.length < 8 || bytes[0] !== 0x12 || bytes[1] !== 0x06) return undefined;
  return bytes.readUIntBE(2, 6);
}

function queryKeyOf(body: QueryBody): string {
  const filters = body.query.filterBy;
  const list = filters === undefined ? [] : Array.isArray(filters) ? filters : [filters];
  const selectors = list
    .filter((f) => f.fieldName !== 'startRank')
    .map((f) => `${f.fieldName}=${String(f.fieldValue?.value)}`)
    .sort();
  return `${body.query.recordType}|${selectors.join('&')}|${hashString(JSON.stringify(body.zoneID ?? null)).toString(16)}`;
}

function startOffset(body: QueryBody, unit: number, filters: Filters): number | undefined {
  if (body.continuationMarker !== undefined) return decodeMarker(body.continuationMarker);
  const rank = Number(filters.get('startRank') ?? 0);
  return Number.isFinite(rank) && rank >= 0 ? Math.floor(rank) * unit : 0;
}

function pageRecords(
  ctx: CloudKitContext,
  records: CkRecord[],
  body: QueryBody,
  limit: number,
  pageable: boolean,
  recordType: string,
): Record<string, unknown> {
  const offset = body.continuationMarker !== undefined ? (decodeMarker(body.continuationMarker) ?? 0) : 0;
  if (!pageable) return { records: records.slice(0, limit) };
  const page = records.slice(offset, offset + limit);
  const out: Record<string, unknown> = { records: withInlineErrors(ctx, page) };
  if (offset + limit < records.length) out.continuationMarker = encodeMarker(offset + limit, recordType);
  return out;
}

function withInlineErrors(ctx: CloudKitContext, records: CkRecord[]): CkRecord[] {
  const failing = ctx.library.quirks.inlineErrors;
  if (failing.length === 0) return records;
  return records.map((r) =>
    failing.includes(String(r.recordName))
      ? { recordName: r.recordName, serverErrorCode: 'INTERNAL_ERROR', reason: 'Could not read record' }
      : r,
  );
}

function pagePhotos(
  ctx: CloudKitContext,
  rc: RecordContext,
  zone: ZoneKey,
  slots: Uint32Array,
  album: number | undefined,
  body: QueryBody,
  filters: Filters,
  limit: number,
): Record<string, unknown> {
  const library = ctx.library;
  const unit = album === undefined ? 2 : 3;
  const descending = String(filters.get('direction') ?? 'ASCENDING').toUpperCase() === 'DESCENDING';
  const only = filters.get('recordName');
  let ordered: ArrayLike<number> = slots;
  if (typeof only === 'string') {
    const slot = library.core.slotOfAssetName(only);
    ordered = slot !== undefined && slots.includes(slot) ? [slot] : [];
  }
  const total = ordered.length;
  // The recorded quirk: ASCENDING returns the newest first (docs/protocol/cloudkit.md#query-pages).
  const photoAt = (rank: number) => ordered[descending ? rank : total - 1 - rank]!;
  const offset = startOffset(body, unit, filters);
  if (offset === undefined) return { records: [] };
  const quirkRank = library.quirks.emptyPageAtRank;
  if (quirkRank !== null && body.continuationMarker === undefined && offset === quirkRank * unit)
    return { records: [] };
  const split = library.quirks.splitPairs || limit < unit;
  const count = split ? limit : Math.floor(limit / unit) * unit;
  const start = split ? offset : Math.ceil(offset / unit) * unit;
  const end = Math.min(start + count, total * unit);
  const masters: CkRecord[] = [];
  const assets: CkRecord[] = [];
  const relations: CkRecord[] = [];
  for (let i = start; i < end; i += 1) {
    const rank = Math.floor(i / unit);
    const part = i % unit;
    const slot = photoAt(rank);
    if (part === 0)
      masters.push(buildRecord(rc, zone, { t: 'master', slot: library.core.state.masterOf(slot) }));
    else if (part === 1) assets.push(buildRecord(rc, zone, { t: 'asset', slot }));
    else relations.push(buildRecord(rc, zone, { t: 'relation', slot, album: album ?? 0 }));
  }
  let records = [...masters, ...assets, ...relations];
  if (library.quirks.shuffle) {
    records = records
      .map((r) => ({ r, k: hashString(`${String(r.recordName)}:${start}`) }))
      .sort((a, b) => a.k - b.k)
      .map(({ r }) => r);
  }
  const out: Record<string, unknown> = { records: withInlineErrors(ctx, records) };
  if (end < total * unit) out.continuationMarker = encodeMarker(end, queryKeyOf(body));
  return out;
}
