/**
 * `records/modify` (docs/protocol/cloudkit.md#records-modify, S71 in docs/protocol/simulator-contract.md#lookup-and-modify): the writes the web app makes. `update` of
 * `isDeleted` / `isHidden` / `isFavorite` on a CPLAsset (soft delete cascades to the master),
 * `create` / `delete` / `forceDelete` of a CPLContainerRelation (album membership), `forceDelete`
 * of a CPLAsset (purge). Each goes through the library's mutations, so it bumps change tags and is
 * logged and persisted like any other change. A stale `recordChangeTag` is a CONFLICT only with the
 * `strictChangeTags` quirk (icloud-photos-sync's hard-coded tag works against Apple).
 */
import * as z from 'zod';
import type { MutateOp } from '../library/index.ts';
import { MutationError } from '../library/index.ts';
import { SHARED_ZONE, type ZoneKey } from '../library/model.ts';
import { keyOfRecordName, recordExists } from '../library/record-names.ts';
import type { SimReply } from '../types.ts';
import { type CloudKitContext, ckJson } from './context.ts';
import { buildRecord, changeTagOf, type RecordContext } from './records.ts';

const operation = z
  .object({
    operationType: z.string(),
    record: z
      .object({
        recordName: z.string(),
        recordType: z.string().optional(),
        recordChangeTag: z.string().optional(),
        fields: z.record(z.string(), z.unknown()).optional(),
      })
      .loose(),
  })
  .loose();
const modifyBody = z
  .object({
    operations: z.array(operation),
    zoneID: z.unknown().optional(),
    atomic: z.boolean().optional(),
    desiredKeys: z.array(z.string()).optional(),
  })
  .loose();

type RecordError = { recordName: string; serverErrorCode: string; reason: string };

export async function handleModify(ctx: CloudKitContext, json: unknown): Promise<SimReply> {
  const parsed = modifyBody.safeParse(json);
  if (!parsed.success) return ctx.error(400, 'BAD_REQUEST', 'Invalid request');
  const body = parsed.data;
  if (body.zoneID === undefined) return ckJson({ records: body.operations.map(inDefaultZone) });
  const zone = ctx.resolveZone(body.zoneID);
  if (zone === undefined) return ctx.error(404, 'ZONE_NOT_FOUND', 'Zone does not exist');
  const rc: RecordContext = {
    library: ctx.library,
    requestUuid: ctx.requestUuid,
    ...(body.desiredKeys ? { desiredKeys: new Set(body.desiredKeys) } : {}),
  };
  const plans = body.operations.map((op) => planOperation(ctx, zone, op));
  if (body.atomic && plans.some((p) => 'serverErrorCode' in p) && body.operations.length > 1) {
    const records = plans.map((p, i) =>
      'serverErrorCode' in p
        ? p
        : {
            recordName: body.operations[i]!.record.recordName,
            serverErrorCode: 'ATOMIC_ERROR',
            reason: 'Atomic batch failed',
          },
    );
    return ckJson({ records });
  }
  const records: unknown[] = [];
  for (const plan of plans) {
    if ('serverErrorCode' in plan) {
      records.push(plan);
      continue;
    }
    try {
      for (const op of plan.ops) await ctx.library.mutate(op);
      const key = keyOfRecordName(ctx.library.core, zone, plan.recordName);
      records.push(
        key && recordExists(ctx.library.core, zone, key)
          ? buildRecord(rc, zone, key)
          : { recordName: plan.recordName, deleted: true },
      );
    } catch (error) {
      if (!(error instanceof MutationError)) throw error;
      records.push({ recordName: plan.recordName, serverErrorCode: 'BAD_REQUEST', reason: error.message });
    }
  }
  return ckJson(ctx.wantsSyncToken ? { records, syncToken: ctx.currentZoneToken(zone) } : { records });
}

/**
 * S54: without zoneID an operation addresses `_defaultZone`, which holds none of the named Photos
 * records, and the simulator keeps no records there: nothing changes, each name is NOT_FOUND (a
 * create is refused, as the library it would reference is in another zone).
 */
function inDefaultZone(op: z.infer<typeof operation>): RecordError {
  const { recordName } = op.record;
  return op.operationType === 'create'
    ? { recordName, serverErrorCode: 'BAD_REQUEST', reason: 'Photos records are not kept in _defaultZone' }
    : { recordName, serverErrorCode: 'NOT_FOUND', reason: 'Record not found' };
}

type Plan = { recordName: string; ops: MutateOp[] } | RecordError;

const flag = (fields: Record<string, unknown> | undefined, name: string): number | null | undefined => {
  const field = fields?.[name];
  if (field === undefined) return undefined;
  if (field === null) return null;
  const value = (field as { value?: unknown }).value;
  if (value === null || value === undefined) return null;
  return value === true ? 1 : value === false ? 0 : Number(value);
};

function planOperation(ctx: CloudKitContext, zone: ZoneKey, op: z.infer<typeof operation>): Plan {
  const core = ctx.library.core;
  const { recordName, recordChangeTag, fields } = op.record;
  const fail = (serverErrorCode: string, reason: string): RecordError => ({
    recordName,
    serverErrorCode,
    reason,
  });
  const type = op.operationType;
  const by = ctx.person;
  if (type === 'create' && recordName.includes('-IN-')) {
    const [asset, album] = [
      recordName.slice(0, recordName.indexOf('-IN-')),
      recordName.slice(recordName.indexOf('-IN-') + 4),
    ];
    return { recordName, ops: [{ op: 'album-add', assetRecordName: asset, album, via: 'web' }] };
  }
  const key = keyOfRecordName(core, zone, recordName);
  if (!key || !recordExists(core, zone, key)) return fail('NOT_FOUND', 'Record not found');
  if (ctx.library.quirks.strictChangeTags && recordChangeTag !== undefined && !type.startsWith('force')) {
    const current = changeTagOf(core.logs[zone].latestPosition(key) ?? 0);
    if (current !== recordChangeTag) return fail('CONFLICT', 'Record change tag is stale');
  }
  if (key.t === 'relation' && (type === 'delete' || type === 'forceDelete')) {
    return {
      recordName,
      ops: [
        {
          op: 'album-remove',
          assetRecordName: core.assetName(key.slot),
          album: core.state.albums[key.album]!.recordName,
          via: 'web',
        },
      ],
    };
  }
  if (key.t !== 'asset')
    return fail('BAD_REQUEST', `Unsupported ${type} of ${op.record.recordType ?? 'record'}`);
  const assetRecordName = recordName;
  if (type === 'delete' || type === 'forceDelete')
    return { recordName, ops: [{ op: 'purge', assetRecordName, via: 'web' }] };
  if (!['update', 'forceUpdate', 'replace', 'forceReplace'].includes(type))
    return fail('BAD_REQUEST', `Unsupported ${type}`);
  const s = core.state;
  const ops: MutateOp[] = [];
  const isDeleted = flag(fields, 'isDeleted');
  if (isDeleted === 1 && !s.isTrashed(key.slot)) {
    ops.push(
      zone === SHARED_ZONE
        ? { op: 'shared-delete', assetRecordName, by, via: 'web' }
        : { op: 'trash', assetRecordName, via: 'web' },
    );
  } else if ((isDeleted === 0 || isDeleted === null) && s.isTrashed(key.slot)) {
    ops.push({ op: 'restore', assetRecordName, via: 'web' });
  }
  const hidden = flag(fields, 'isHidden');
  if (hidden === 1 && !s.isHidden(key.slot)) ops.push({ op: 'hide', assetRecordName, via: 'web' });
  if (hidden === 0 && s.isHidden(key.slot)) ops.push({ op: 'unhide', assetRecordName, via: 'web' });
  const favorite = flag(fields, 'isFavorite');
  if (favorite === 1 && !s.isFavorite(key.slot)) ops.push({ op: 'favorite', assetRecordName, via: 'web' });
  if (favorite === 0 && s.isFavorite(key.slot)) ops.push({ op: 'unfavorite', assetRecordName, via: 'web' });
  return { recordName, ops };
}
