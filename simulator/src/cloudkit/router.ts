/**
 * CloudKit web services for Photos on `pNN-ckdatabasews.icloud.com` (docs/protocol/cloudkit.md, S41-S107 in docs/protocol/simulator-contract.md).
 * The server core authorises the cookies first and decorates the reply (rotated
 * `X-APPLE-WEBAUTH-TOKEN`, `X-Apple-CloudKit-Version`, `X-Apple-Request-UUID`,
 * `x-apple-user-partition`); this module answers the request itself:
 *
 *   POST /database/1/com.apple.photos.cloud/production/{private|shared}/
 *        zones/list | changes/database | changes/zone | records/query | records/lookup
 *        | records/modify | internal/records/query/batch
 *
 * Other containers or environments -> 400 BAD_REQUEST (S41 in docs/protocol/simulator-contract.md#cloudkit-common).
 */
import type { SimLibrary } from '../library/index.ts';
import type { Clock, Principal, SimReply, SimRequest } from '../types.ts';
import { handleDatabaseChanges, handleZoneChanges, handleZonesList } from './changes.ts';
import { CloudKitContext, ckJson, type Database } from './context.ts';
import { handleLookup } from './lookup.ts';
import { handleModify } from './modify.ts';
import { handleBatch, handleQuery } from './query.ts';

export interface CloudKitDeps {
  readonly library: SimLibrary;
  readonly principal: Principal;
  readonly clock: Clock;
  /** The `X-Apple-Request-UUID` of this response; minted URLs carry it (`r=`). */
  readonly requestUuid: string;
}

const PATH = /^\/database\/1\/([^/]+)\/([^/]+)\/([^/]+)\/(.+?)\/?$/;

/** Answers one authorised CloudKit request. Never throws for client mistakes: they become CloudKit errors. */
export async function handleCloudKit(req: SimRequest, deps: CloudKitDeps): Promise<SimReply> {
  const badRequest = (reason: string, status = 400) =>
    ckJson({ uuid: deps.requestUuid, serverErrorCode: 'BAD_REQUEST', reason }, status);
  const match = PATH.exec(req.path.split('?')[0] ?? '');
  if (!match) return badRequest('Unknown path');
  const [, container, environment, database, operation] = match;
  if (container !== 'com.apple.photos.cloud') return badRequest(`Unknown container: ${container}`);
  if (environment !== 'production') return badRequest(`Unknown environment: ${environment}`);
  if (database !== 'private' && database !== 'shared') return badRequest(`Unknown database: ${database}`);
  if (req.method.toUpperCase() !== 'POST') return badRequest('Method not allowed', 405);
  deps.library.refresh();
  const ctx = new CloudKitContext({
    library: deps.library,
    principal: deps.principal,
    database: database as Database,
    requestUuid: deps.requestUuid,
    clock: deps.clock,
    wantsSyncToken: req.query.get('getCurrentSyncToken')?.toLowerCase() === 'true',
  });
  const body = req.json ?? (req.body.length === 0 ? {} : undefined);
  if (body === undefined) return badRequest('Request body is not JSON');
  switch (operation) {
    case 'zones/list':
      return handleZonesList(ctx);
    case 'changes/database':
      return handleDatabaseChanges(ctx, body);
    case 'changes/zone':
      return handleZoneChanges(ctx, body);
    case 'records/query':
      return handleQuery(ctx, body);
    case 'internal/records/query/batch':
      return handleBatch(ctx, body);
    case 'records/lookup':
      return handleLookup(ctx, body);
    case 'records/modify':
      return handleModify(ctx, body);
    default:
      return badRequest(`Unknown operation: ${operation}`);
  }
}
