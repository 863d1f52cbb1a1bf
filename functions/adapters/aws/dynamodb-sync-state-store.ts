/**
 * `SyncStateStore` on one DynamoDB table (`pk`/`sk` strings, on demand). Every racing write is
 * a conditional PutItem, UpdateItem or DeleteItem; there are no transactions, TTL API or PartiQL,
 * so the same code runs on dynalite for the one-machine runtime. Why that is enough, item by
 * item, is in docs/state.md.
 *
 * The DocumentClient is injected (built once per cold start). Reads that a compare-and-set
 * depends on are strongly consistent.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import {
  type ArchiveCounters,
  type AssetRef,
  assetId,
  type ClaimOutcome,
  type ManifestEntry,
  type ManifestEntryInput,
  type TransferClaim,
} from '#domain/model/manifest.ts';
import {
  MAX_RUN_FAILURES,
  type RunFailure,
  type RunKind,
  type RunOutcome,
  type RunProgress,
  type RunRecord,
  type RunRef,
} from '#domain/model/run.ts';
import {
  type DatabaseSyncState,
  type JsonValue,
  type LockAttempt,
  type LockLease,
  MAX_CHECKPOINT_BYTES,
  type ZoneSyncState,
  type ZoneSyncStateInput,
} from '#domain/model/sync-state.ts';
import { type DatabaseScope, type ZoneRef, zoneId } from '#domain/model/zone.ts';
import { ConflictError, InvalidInputError } from '../../domain/errors.ts';
import type { SyncStateStore, UnseenAsset, UnseenAssetsPage } from '../../ports/sync-state-store.ts';
import { batchGetAll, batchWriteAll } from './dynamodb-batch.ts';
import {
  appliedAttribute,
  type ClaimCount,
  claimCountText,
  countedObjectItemSchema,
  countersItemSchema,
  databaseItemSchema,
  type ItemKey,
  keyClaimItemSchema,
  keys,
  lastCheckItemSchema,
  lockItemSchema,
  MANIFEST_SHARDS,
  manifestItemSchema,
  manifestShard,
  manifestWalkCursorSchema,
  masterUserItemSchema,
  parseClaimCount,
  runItemSchema,
  seenItemSchema,
  settledCountItemSchema,
  unseenItemSchema,
  withoutKeys,
  withoutUndefined,
  zoneItemSchema,
} from './state-items.ts';

export interface DynamoDbSyncStateStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Milliseconds since the epoch; injectable so lock expiry is testable without waiting. */
  readonly now?: () => number;
  /** Manifest entries per `unseenAssets` page (100, BatchGetItem's limit; smaller in tests). */
  readonly unseenPageSize?: number;
}

/** BatchWriteItem's limit. */
const WRITE_BATCH = 25;
/** BatchGetItem's limit. */
const READ_BATCH = 100;
/** Manifest entries read per page of `unseenAssets` (and BatchGetItem's limit for their stamps). */
const UNSEEN_PAGE = 100;

/** Attempts at a claim or lock whose holder vanished between the failed write and the read. */
const CLAIM_ATTEMPTS = 3;

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

function expectRevision(expectedRevision: number): {
  ConditionExpression: string;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  if (!Number.isInteger(expectedRevision) || expectedRevision < 0) {
    throw new InvalidInputError(`expected revision must be a whole number >= 0, got ${expectedRevision}`);
  }
  return expectedRevision === 0
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : {
        ConditionExpression: 'revision = :expected',
        ExpressionAttributeValues: { ':expected': expectedRevision },
      };
}

function serialiseCheckpoint(checkpoint: JsonValue | undefined): string | undefined {
  if (checkpoint === undefined) return undefined;
  const text = JSON.stringify(checkpoint);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CHECKPOINT_BYTES) {
    throw new InvalidInputError(
      `checkpoint is ${bytes} bytes, the store keeps at most ${MAX_CHECKPOINT_BYTES}`,
    );
  }
  return text;
}

/** Attribute names for a numeric map update, e.g. `counts.assetsArchived`. */
function increments(
  field: string,
  values: Readonly<Record<string, number>> | undefined,
  prefix: string,
): { clauses: string[]; names: Record<string, string>; values: Record<string, number> } {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const numbers: Record<string, number> = {};
  Object.entries(values ?? {}).forEach(([name, value], index) => {
    if (!Number.isFinite(value)) throw new InvalidInputError(`run count ${name} is not a number`);
    names[`#${prefix}${index}`] = name;
    numbers[`:${prefix}${index}`] = value;
    clauses.push(
      `#${field}.#${prefix}${index} = if_not_exists(#${field}.#${prefix}${index}, :zero) + :${prefix}${index}`,
    );
  });
  return { clauses, names, values: numbers };
}

export class DynamoDbSyncStateStore implements SyncStateStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;
  private readonly unseenPageSize: number;

  constructor(options: DynamoDbSyncStateStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
    this.unseenPageSize = Math.min(options.unseenPageSize ?? UNSEEN_PAGE, UNSEEN_PAGE);
  }

  private async get<S extends z.ZodType>(key: ItemKey, schema: S): Promise<z.infer<S> | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
    );
    return output.Item === undefined ? undefined : schema.parse(output.Item);
  }

  private async putConditional(
    item: Record<string, unknown>,
    condition: { ConditionExpression: string; ExpressionAttributeValues?: Record<string, unknown> },
    conflict: string,
    names?: Record<string, string>,
  ): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: withoutUndefined(item),
          ...condition,
          ...(names !== undefined && { ExpressionAttributeNames: names }),
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(conflict, { cause: error });
      throw error;
    }
  }

  // -- tokens and checkpoints -------------------------------------------------------------

  async loadDatabaseState(database: DatabaseScope): Promise<DatabaseSyncState | undefined> {
    const item = await this.get(keys.database(database), databaseItemSchema);
    return item === undefined ? undefined : withoutKeys(item);
  }

  async saveDatabaseToken(
    database: DatabaseScope,
    syncToken: string,
    expectedRevision: number,
  ): Promise<DatabaseSyncState> {
    const state: DatabaseSyncState = {
      database,
      syncToken,
      updatedAt: this.now(),
      revision: expectedRevision + 1,
    };
    await this.putConditional(
      { ...keys.database(database), ...state },
      expectRevision(expectedRevision),
      `the ${database} database token changed since revision ${expectedRevision}`,
    );
    return state;
  }

  async recordCheck(at: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lastCheck(),
          UpdateExpression: 'SET lastCheckedAt = :at',
          ConditionExpression: 'attribute_not_exists(lastCheckedAt) OR lastCheckedAt < :at',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error) {
      // A later check already stored a later time: keeping it is right.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async lastCheckedAt(): Promise<number | undefined> {
    return (await this.get(keys.lastCheck(), lastCheckItemSchema))?.lastCheckedAt;
  }

  async loadZone(zone: ZoneRef): Promise<ZoneSyncState | undefined> {
    const item = await this.get(keys.zone(zone), zoneItemSchema);
    return item === undefined ? undefined : this.toZoneState(item);
  }

  async loadZones(): Promise<ZoneSyncState[]> {
    const zones: ZoneSyncState[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.zones },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) zones.push(this.toZoneState(zoneItemSchema.parse(item)));
    }
    return zones;
  }

  private toZoneState(item: z.infer<typeof zoneItemSchema>): ZoneSyncState {
    const { checkpoint, ...rest } = withoutKeys(item);
    return { ...rest, ...(checkpoint !== undefined && { checkpoint: JSON.parse(checkpoint) as JsonValue }) };
  }

  async saveZone(state: ZoneSyncStateInput, expectedRevision: number): Promise<ZoneSyncState> {
    const checkpoint = serialiseCheckpoint(state.checkpoint);
    const saved: ZoneSyncState = withoutUndefined({
      ...state,
      updatedAt: this.now(),
      revision: expectedRevision + 1,
    });
    await this.putConditional(
      { ...keys.zone(state.zone), ...saved, checkpoint },
      expectRevision(expectedRevision),
      `zone ${state.zone.zoneName} changed since revision ${expectedRevision}`,
    );
    return saved;
  }

  // -- the detection lock -----------------------------------------------------------------

  async acquireLock(name: string, owner: string, leaseMs: number): Promise<LockAttempt> {
    for (let attempt = 1; ; attempt += 1) {
      const now = this.now();
      const lease: LockLease = { name, owner, expiresAt: now + leaseMs };
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...keys.lock(name), owner, expiresAt: lease.expiresAt },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now OR #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':now': now, ':owner': owner },
          }),
        );
        return { acquired: true, lease };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const holder = await this.get(keys.lock(name), lockItemSchema);
      if (holder !== undefined || attempt >= CLAIM_ATTEMPTS) {
        return { acquired: false, heldBy: holder?.owner ?? 'unknown', expiresAt: holder?.expiresAt ?? now };
      }
    }
  }

  async releaseLock(lease: LockLease): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: keys.lock(lease.name),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': lease.owner },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  // -- the manifest -----------------------------------------------------------------------

  async getEntry(ref: AssetRef): Promise<ManifestEntry | undefined> {
    const item = await this.get(keys.manifest(ref), manifestItemSchema);
    return item === undefined ? undefined : withoutKeys(item);
  }

  async getEntries(refs: readonly AssetRef[]): Promise<Map<string, ManifestEntry>> {
    const found = new Map<string, ManifestEntry>();
    const unique = [...new Map(refs.map((ref) => [assetId(ref), ref])).values()];
    for (let i = 0; i < unique.length; i += READ_BATCH) {
      const wanted: Record<string, unknown>[] = unique
        .slice(i, i + READ_BATCH)
        .map((ref) => ({ ...keys.manifest(ref) }));
      await batchGetAll(this.client, this.table, wanted, 'DynamoDB left manifest entries unread', (raw) => {
        const entry = withoutKeys(manifestItemSchema.parse(raw));
        found.set(assetId(entry), entry);
      });
    }
    return found;
  }

  async putEntry(entry: ManifestEntryInput, expectedRevision: number): Promise<ManifestEntry> {
    const saved: ManifestEntry = withoutUndefined({
      ...entry,
      updatedAt: this.now(),
      revision: expectedRevision + 1,
    });
    await this.putConditional(
      { ...keys.manifest(entry), ...saved },
      expectRevision(expectedRevision),
      `manifest entry ${entry.assetRecordName} changed since revision ${expectedRevision}`,
    );
    return saved;
  }

  async *entries(): AsyncIterable<ManifestEntry> {
    for (let shard = 0; shard < MANIFEST_SHARDS; shard += 1) {
      const pages = paginateQuery(
        { client: this.client },
        {
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': manifestShard(shard) },
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) yield withoutKeys(manifestItemSchema.parse(item));
      }
    }
  }

  // -- reconciling a full enumeration -------------------------------------------------------

  async markSeen(zone: ZoneRef, generation: string, assetRecordNames: readonly string[]): Promise<void> {
    const unique = [...new Set(assetRecordNames)];
    for (let i = 0; i < unique.length; i += WRITE_BATCH) {
      const requests: Record<string, unknown>[] = unique.slice(i, i + WRITE_BATCH).map((name) => ({
        PutRequest: { Item: { ...keys.seen({ zone, assetRecordName: name }), generation } },
      }));
      await batchWriteAll(this.client, this.table, requests, 'DynamoDB left enumeration stamps unwritten');
    }
  }

  /**
   * Walks the zone's range (`begins_with(<zoneId>#)`) of each manifest shard in turn, 100
   * entries a page (only the attributes named here are read), and batch-reads their stamps.
   * The cursor is the shard and the last sort key read there.
   */
  async unseenAssets(zone: ZoneRef, generation: string, cursor?: string): Promise<UnseenAssetsPage> {
    const from =
      cursor === undefined ? { shard: 0 } : manifestWalkCursorSchema.parse(JSON.parse(cursor) as unknown);
    const pk = manifestShard(from.shard);
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :zone)',
        ExpressionAttributeValues: { ':pk': pk, ':zone': `${zoneId(zone)}#` },
        ExpressionAttributeNames: { '#status': 'status' },
        ProjectionExpression: 'assetRecordName, masterRecordName, #status',
        Limit: this.unseenPageSize,
        ...(from.after === undefined ? {} : { ExclusiveStartKey: { pk, sk: from.after } }),
      }),
    );
    const live = (output.Items ?? [])
      .map((item) => unseenItemSchema.parse(item))
      .filter((item) => item.status !== 'purged');
    const stamped = await this.stampsOf(zone, generation, live);
    const assets: UnseenAsset[] = live
      .filter((item) => !stamped.has(item.assetRecordName))
      .map(({ assetRecordName, masterRecordName }) => ({ assetRecordName, masterRecordName }));
    const lastKey = output.LastEvaluatedKey?.sk;
    const next =
      typeof lastKey === 'string'
        ? { shard: from.shard, after: lastKey }
        : from.shard + 1 < MANIFEST_SHARDS
          ? { shard: from.shard + 1 }
          : undefined;
    return next === undefined ? { assets } : { assets, cursor: JSON.stringify(next) };
  }

  /** Which of these assets carry the stamp of `generation` (one BatchGetItem, retried for leftovers). */
  private async stampsOf(
    zone: ZoneRef,
    generation: string,
    items: readonly { assetRecordName: string }[],
  ): Promise<Set<string>> {
    const stamped = new Set<string>();
    const wanted: Record<string, unknown>[] = items.map((item) => ({
      ...keys.seen({ zone, assetRecordName: item.assetRecordName }),
    }));
    const prefix = `${zoneId(zone)}#`;
    await batchGetAll(this.client, this.table, wanted, 'DynamoDB left enumeration stamps unread', (raw) => {
      const stamp = seenItemSchema.parse(raw);
      if (stamp.generation === generation) stamped.add(stamp.sk.slice(prefix.length));
    });
    return stamped;
  }

  // -- claims -----------------------------------------------------------------------------

  async claimKey(key: string, owner: string): Promise<ClaimOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        // ALL_OLD: no old item means the claim is fresh (as claimTransfer's).
        const output = await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...keys.keyClaim(key), owner, key },
            ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner },
            ReturnValues: 'ALL_OLD',
          }),
        );
        return { claimed: true, fresh: output.Attributes === undefined };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const holder = await this.keyOwner(key);
      if (holder !== undefined) return { claimed: false, owner: holder };
      if (attempt >= CLAIM_ATTEMPTS) throw new ConflictError(`key claim kept changing under us`);
    }
  }

  async claimTransfer(
    key: string,
    owner: string,
    holder: string,
    leaseMs: number,
    size?: number,
  ): Promise<TransferClaim> {
    for (let attempt = 1; ; attempt += 1) {
      const now = this.now();
      const lease: LockLease = { name: key, owner: holder, expiresAt: now + leaseMs };
      // The object's count starts here when it has none: no write of its own (docs/state.md).
      const pending =
        size === undefined
          ? undefined
          : claimCountText({ state: 'pending', change: 1, nonce: randomUUID(), size });
      try {
        // ALL_OLD: no old item means the claim is fresh (nothing can be stored at the key yet).
        const output = await this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: keys.keyClaim(key),
            UpdateExpression:
              'SET #owner = :owner, #key = if_not_exists(#key, :key), #holder = :holder, #expires = :expires' +
              (pending === undefined ? '' : ', #count = if_not_exists(#count, :pending)'),
            ConditionExpression:
              '(attribute_not_exists(pk) OR #owner = :owner) AND ' +
              '(attribute_not_exists(#expires) OR #expires <= :now OR #holder = :holder)',
            ExpressionAttributeNames: {
              '#owner': 'owner',
              '#key': 'key',
              '#holder': 'leaseHolder',
              '#expires': 'leaseExpiresAt',
              ...(pending !== undefined && { '#count': 'count' }),
            },
            ExpressionAttributeValues: {
              ':owner': owner,
              ':key': key,
              ':holder': holder,
              ':expires': lease.expiresAt,
              ':now': now,
              ...(pending !== undefined && { ':pending': pending }),
            },
            ReturnValues: 'ALL_OLD',
          }),
        );
        const old = output.Attributes === undefined ? undefined : keyClaimItemSchema.parse(output.Attributes);
        if (pending === undefined) return { claimed: true, fresh: old === undefined, lease };
        if (old === undefined) return { claimed: true, fresh: true, lease, count: `mine:${pending}` };
        if (old.count !== undefined)
          return { claimed: true, fresh: false, lease, count: `seen:${old.count}` };
        // A claim from before counts moved onto claims: its object is counted by an `object#`
        // item (or will be), so the count just started here must go again.
        await this.client
          .send(
            new UpdateCommand({
              TableName: this.table,
              Key: keys.keyClaim(key),
              UpdateExpression: 'REMOVE #count',
              ConditionExpression: '#count = :pending',
              ExpressionAttributeNames: { '#count': 'count' },
              ExpressionAttributeValues: { ':pending': pending },
            }),
          )
          .catch((error: unknown) => {
            if (!isConditionFailure(error)) throw error;
          });
        return { claimed: true, fresh: false, lease };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const found = await this.get(keys.keyClaim(key), keyClaimItemSchema);
      if (found !== undefined && found.owner !== owner) return { claimed: false, owner: found.owner };
      if (
        found?.leaseHolder !== undefined &&
        found.leaseExpiresAt !== undefined &&
        found.leaseExpiresAt > now
      )
        return { claimed: true, heldBy: found.leaseHolder, expiresAt: found.leaseExpiresAt };
      if (attempt >= CLAIM_ATTEMPTS) throw new ConflictError(`key claim kept changing under us`);
    }
  }

  async releaseTransfer(lease: LockLease): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.keyClaim(lease.name),
          UpdateExpression: 'REMOVE #holder, #expires',
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#holder': 'leaseHolder', '#expires': 'leaseExpiresAt' },
          ExpressionAttributeValues: { ':holder': lease.owner },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async keyOwner(key: string): Promise<string | undefined> {
    return (await this.get(keys.keyClaim(key), keyClaimItemSchema))?.owner;
  }

  async releaseKey(key: string, owner: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: keys.keyClaim(key),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  // -- which assets use a master's objects --------------------------------------------------

  async addMasterUser(masterRecordName: string, user: AssetRef): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: withoutUndefined({
          ...keys.masterUser(masterRecordName, user),
          zone: user.zone,
          assetRecordName: user.assetRecordName,
        }),
      }),
    );
  }

  async addMasterUsers(
    users: readonly { readonly masterRecordName: string; readonly user: AssetRef }[],
  ): Promise<void> {
    const unique = [
      ...new Map(users.map((u) => [`${u.masterRecordName}#${assetId(u.user)}`, u] as const)).values(),
    ];
    for (let i = 0; i < unique.length; i += WRITE_BATCH) {
      const chunk = unique.slice(i, i + WRITE_BATCH);
      // The markers of counts already applied ride along in the free places (docs/state.md):
      // a marker written here spares a marker write of its own at the flush.
      const markers = this.#unmarked.splice(0, WRITE_BATCH - chunk.length);
      const requests: Record<string, unknown>[] = [
        ...chunk.map(({ masterRecordName, user }) => ({
          PutRequest: {
            Item: withoutUndefined({
              ...keys.masterUser(masterRecordName, user),
              zone: user.zone,
              assetRecordName: user.assetRecordName,
            }),
          },
        })),
        ...markers.map((nonce) => ({ PutRequest: { Item: { ...keys.settledCount(nonce) } } })),
      ];
      try {
        await batchWriteAll(this.client, this.table, requests, 'DynamoDB left master users unwritten');
      } catch (error) {
        // Still applied and remembered by the counters item: a later write takes them.
        this.#unmarked.unshift(...markers);
        throw error;
      }
      this.#markersWritten(markers);
    }
  }

  async removeMasterUser(masterRecordName: string, user: AssetRef): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.table, Key: keys.masterUser(masterRecordName, user) }),
    );
  }

  async masterUsers(masterRecordName: string): Promise<AssetRef[]> {
    const users: AssetRef[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :user)',
        ExpressionAttributeValues: { ':pk': keys.masterUsers(masterRecordName), ':user': 'user#' },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const parsed = masterUserItemSchema.parse(item);
        users.push({ zone: parsed.zone, assetRecordName: parsed.assetRecordName });
      }
    }
    return users;
  }

  // -- runs -------------------------------------------------------------------------------

  async startRun(runId: string, kind: RunKind, startedAt: number): Promise<RunRef> {
    await this.putConditional(
      {
        ...keys.run(runId, startedAt),
        runId,
        kind,
        startedAt,
        outcome: 'running',
        counts: {},
        appleRequests: {},
        failures: [],
      },
      { ConditionExpression: 'attribute_not_exists(pk)' },
      `run ${runId} was already started`,
    );
    return { runId, startedAt };
  }

  async addRunProgress(run: RunRef, progress: RunProgress): Promise<void> {
    const counts = increments('counts', progress.counts, 'c');
    const requests = increments('appleRequests', progress.appleRequests, 'r');
    const clauses = [...counts.clauses, ...requests.clauses];
    if (clauses.length === 0) return;
    await this.updateRun(run, `SET ${clauses.join(', ')}`, {
      // DynamoDB refuses attribute names the expression does not use.
      names: {
        ...(counts.clauses.length > 0 && { '#counts': 'counts' }),
        ...(requests.clauses.length > 0 && { '#appleRequests': 'appleRequests' }),
        ...counts.names,
        ...requests.names,
      },
      values: { ':zero': 0, ...counts.values, ...requests.values },
    });
  }

  async recordRunFailure(run: RunRef, failure: RunFailure): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.run(run.runId, run.startedAt),
          UpdateExpression: 'SET failures = list_append(failures, :failure)',
          ConditionExpression: 'attribute_exists(pk) AND size(failures) < :max',
          ExpressionAttributeValues: { ':failure': [failure], ':max': MAX_RUN_FAILURES },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Either the run is unknown (a bug worth surfacing) or its failure list is full (by design).
      const existing = await this.get(keys.run(run.runId, run.startedAt), runItemSchema);
      if (existing === undefined)
        throw new ConflictError(`run ${run.runId} was never started`, { cause: error });
    }
  }

  async finishRun(
    run: RunRef,
    outcome: Exclude<RunOutcome, 'running'>,
    endedAt: number,
    message?: string,
  ): Promise<void> {
    await this.updateRun(
      run,
      message === undefined
        ? 'SET outcome = :outcome, endedAt = :endedAt'
        : 'SET outcome = :outcome, endedAt = :endedAt, message = :message',
      {
        names: {},
        values: {
          ':outcome': outcome,
          ':endedAt': endedAt,
          ...(message !== undefined && { ':message': message }),
        },
      },
    );
  }

  private async updateRun(
    run: RunRef,
    expression: string,
    attributes: { names: Record<string, string>; values: Record<string, unknown> },
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.run(run.runId, run.startedAt),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(pk)',
          ...(Object.keys(attributes.names).length > 0 && { ExpressionAttributeNames: attributes.names }),
          ExpressionAttributeValues: attributes.values,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error))
        throw new ConflictError(`run ${run.runId} was never started`, { cause: error });
      throw error;
    }
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.runs },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (output.Items ?? []).map((item) => withoutKeys(runItemSchema.parse(item)));
  }

  // -- archive counters -------------------------------------------------------------------

  async adjustCounters(delta: Partial<ArchiveCounters>): Promise<ArchiveCounters> {
    const output = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.counters(),
        UpdateExpression: 'ADD objects :objects, bytes :bytes',
        ExpressionAttributeValues: { ':objects': delta.objects ?? 0, ':bytes': delta.bytes ?? 0 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = countersItemSchema.parse(output.Attributes);
    return { objects: item.objects, bytes: item.bytes };
  }

  async getCounters(): Promise<ArchiveCounters> {
    const item = await this.get(keys.counters(), countersItemSchema);
    return { objects: item?.objects ?? 0, bytes: item?.bytes ?? 0 };
  }

  // Exactly-once counting without transactions (docs/state.md, "Counting objects"): the key claim
  // records a pending count under a fresh nonce; the counters item applies a nonce at most once
  // (`attribute_not_exists(applied_<nonce>)`); a `counted#<nonce>` marker then says it was
  // applied, written in batches (a count costs one write beyond the claim), and only once the
  // marker is durable is the nonce dropped from the counters item. Whoever finds a count under
  // way, a retry after a crash or a racing worker, finishes it with the same nonce, so no step
  // can count twice and none is left undone.

  async countObject(key: string, size: number, count?: string): Promise<void> {
    // Seen on the claim this worker just made: counted already, or the count it started itself.
    if (count?.startsWith('seen:') && parseClaimCount(count.slice(5)).state === 'counted') return;
    const mine = count?.startsWith('mine:') ? count.slice(5) : undefined;
    // Anyone else's count under way (or none known) is read again first: it may be finished now.
    const value = mine ?? (await this.get(keys.keyClaim(key), keyClaimItemSchema))?.count;
    if (value === undefined) return this.countObjectItem(key, size);
    const found = parseClaimCount(value);
    if (found.state === 'counted') return;
    if (found.change === 1) return this.applyClaimCount(found, { mine: mine !== undefined });
    await this.finishClaimCount(key, found);
    // An uncount was under way: the object is out of the totals now, count it anew.
    return this.countObject(key, size);
  }

  async countObjects(
    objects: readonly { readonly key: string; readonly size: number; readonly count?: string }[],
  ): Promise<void> {
    const pending = new Map<string, Extract<ClaimCount, { state: 'pending' }>>();
    const unknown: { readonly key: string; readonly size: number }[] = [];
    for (const object of objects) {
      const found = object.count?.startsWith('mine:') ? parseClaimCount(object.count.slice(5)) : undefined;
      if (found?.state === 'pending' && found.change === 1) pending.set(found.nonce, found);
      else if (
        !(object.count?.startsWith('seen:') && parseClaimCount(object.count.slice(5)).state === 'counted')
      )
        unknown.push(object);
    }
    // The others (an earlier delivery's objects, counts someone else started): their claims in one read.
    const claims = await this.claimCountsOf(unknown.map((object) => object.key));
    const rest: { readonly key: string; readonly size: number }[] = [];
    for (const object of unknown) {
      const claim = claims.get(keys.keyClaim(object.key).pk);
      // Nothing is stored at a key nobody claims: a purge deleted the object and released the claim.
      if (claim === undefined) continue;
      const found = claim.count === undefined ? undefined : parseClaimCount(claim.count);
      if (found?.state === 'counted') continue;
      if (found?.state === 'pending' && found.change === 1) pending.set(found.nonce, found);
      else rest.push(object); // no count on the claim, or an uncount under way: one at a time
    }
    const counts = [...pending.values()].filter((count) => !this.#finished.has(claimCountText(count)));
    for (let i = 0; i < counts.length; i += WRITE_BATCH)
      await this.applyClaimCounts(counts.slice(i, i + WRITE_BATCH));
    for (const object of rest) await this.countObject(object.key, object.size);
  }

  /** These keys' claims that exist, with their `count`, by partition key (one consistent batched read per 100). */
  private async claimCountsOf(
    objectKeys: readonly string[],
  ): Promise<Map<string, { readonly count?: string }>> {
    const counts = new Map<string, { readonly count?: string }>();
    const unique = [
      ...new Map(objectKeys.map((key) => [keys.keyClaim(key).pk, keys.keyClaim(key)])).values(),
    ];
    for (let i = 0; i < unique.length; i += READ_BATCH) {
      const wanted: Record<string, unknown>[] = unique.slice(i, i + READ_BATCH).map((key) => ({ ...key }));
      await batchGetAll(this.client, this.table, wanted, 'DynamoDB left key claims unread', (raw) => {
        const claim = keyClaimItemSchema.parse(raw);
        counts.set(claim.pk, claim.count === undefined ? {} : { count: claim.count });
      });
    }
    return counts;
  }

  /**
   * Applies counts this worker started on fresh claims, in one write to the totals. Another worker
   * that adopted one of the objects meanwhile may have applied its count, written its marker and
   * dropped its nonce: the markers are read first (one batched read), and only unmarked counts are
   * applied, each nonce at most once. A nonce found already applied fails the whole write: each
   * count is then applied on its own.
   */
  private async applyClaimCounts(
    counts: readonly Extract<ClaimCount, { state: 'pending' }>[],
  ): Promise<void> {
    const marked = await this.markedNonces(counts.map((count) => count.nonce));
    const todo = counts.filter((count) => !marked.has(count.nonce));
    for (const count of counts) if (marked.has(count.nonce)) this.#remember(count);
    if (todo.length === 0) return;
    const nonces = Object.fromEntries(todo.map((count, i) => [`#n${i}`, appliedAttribute(count.nonce)]));
    // Nonces whose markers are durable leave in the same write (the flush drops the rest).
    const applying = new Set(todo.map((count) => count.nonce));
    const drops = this.#settledNonces.splice(0, WRITE_BATCH).filter((nonce) => !applying.has(nonce));
    const dropNames = Object.fromEntries(drops.map((nonce, i) => [`#d${i}`, appliedAttribute(nonce)]));
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.counters(),
          UpdateExpression:
            `ADD #objects :objects, #bytes :bytes SET ${Object.keys(nonces)
              .map((name) => `${name} = :one`)
              .join(', ')}` + (drops.length > 0 ? ` REMOVE ${Object.keys(dropNames).join(', ')}` : ''),
          ConditionExpression: Object.keys(nonces)
            .map((name) => `attribute_not_exists(${name})`)
            .join(' AND '),
          ExpressionAttributeNames: { '#objects': 'objects', '#bytes': 'bytes', ...nonces, ...dropNames },
          ExpressionAttributeValues: {
            ':objects': todo.length,
            ':bytes': todo.reduce((sum, count) => sum + count.size, 0),
            ':one': 1,
          },
        }),
      );
    } catch (error) {
      // Not dropped this time: a later write (or the flush) drops them.
      for (const nonce of drops) if (!this.#settledNonces.includes(nonce)) this.#settledNonces.push(nonce);
      if (!isConditionFailure(error)) throw error;
      // One of them was applied already (by an earlier delivery or a racing worker).
      for (const count of todo) await this.applyToTotals(count);
    }
    for (const count of todo) {
      if (!this.#unmarked.includes(count.nonce)) this.#unmarked.push(count.nonce);
      this.#remember(count);
    }
    if (this.#unmarked.length >= WRITE_BATCH) await this.writeSettledMarkers({ fullBatchesOnly: true });
  }

  /** Which of these nonces have a `counted#` marker (one consistent batched read). */
  private async markedNonces(nonces: readonly string[]): Promise<Set<string>> {
    const marked = new Set<string>();
    const wanted: Record<string, unknown>[] = nonces.map((nonce) => ({ ...keys.settledCount(nonce) }));
    await batchGetAll(this.client, this.table, wanted, 'DynamoDB left count markers unread', (raw) => {
      marked.add(settledCountItemSchema.parse(raw).pk.slice('counted#'.length));
    });
    return marked;
  }

  async uncountObject(key: string): Promise<void> {
    if ((await this.get(keys.countedObject(key), countedObjectItemSchema)) !== undefined)
      return this.uncountObjectItem(key);
    for (let attempt = 1; ; attempt += 1) {
      const value = (await this.get(keys.keyClaim(key), keyClaimItemSchema))?.count;
      if (value === undefined) return;
      const found = parseClaimCount(value);
      if (found.state === 'pending' && found.change === -1) return this.finishClaimCount(key, found);
      // A count under way is applied first (once, or found applied): the uncount then takes it out.
      if (found.state === 'pending') await this.applyClaimCount(found, { mine: false });
      const uncount: ClaimCount = { state: 'pending', change: -1, nonce: randomUUID(), size: found.size };
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: keys.keyClaim(key),
            UpdateExpression: 'SET #count = :uncount',
            ConditionExpression: '#count = :counted',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: { ':uncount': claimCountText(uncount), ':counted': value },
          }),
        );
        await this.finishClaimCount(key, uncount);
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      if (attempt >= CLAIM_ATTEMPTS) throw new ConflictError(`the count of ${key} kept changing under us`);
    }
  }

  /** Nonces whose counts are settled (marker written, or claim updated): dropped from the counters item with the next write there. */
  readonly #settledNonces: string[] = [];
  /** Nonces of counts applied to the totals whose `counted#` markers are not written yet. */
  readonly #unmarked: string[] = [];
  /** Counts (as written on claims) this store applied lately: a repeated call is a no-op. */
  readonly #finished = new Set<string>();

  #remember(count: ClaimCount): void {
    if (this.#finished.size >= 10_000) this.#finished.clear();
    this.#finished.add(claimCountText(count));
  }

  /**
   * Applies a count under way (+1) to the totals once and queues its marker. A count this worker
   * did not start itself may have been applied by another meanwhile, its marker written and its
   * nonce dropped: its marker is looked for first.
   */
  private async applyClaimCount(
    count: Extract<ClaimCount, { state: 'pending' }>,
    options: { readonly mine: boolean },
  ): Promise<void> {
    if (this.#finished.has(claimCountText(count))) return;
    if (
      !options.mine &&
      (await this.get(keys.settledCount(count.nonce), settledCountItemSchema)) !== undefined
    ) {
      this.#remember(count);
      return;
    }
    await this.applyToTotals(count);
    if (!this.#unmarked.includes(count.nonce)) this.#unmarked.push(count.nonce);
    this.#remember(count);
    if (this.#unmarked.length >= WRITE_BATCH) await this.writeSettledMarkers({ fullBatchesOnly: true });
  }

  /**
   * Adds a count to the totals once (the counters item remembers its nonce:
   * `attribute_not_exists`), dropping a few settled nonces in the same write.
   */
  private async applyToTotals(count: Extract<ClaimCount, { state: 'pending' }>): Promise<void> {
    const drops = this.#settledNonces.splice(0, 20).filter((nonce) => nonce !== count.nonce);
    const dropNames = Object.fromEntries(drops.map((nonce, i) => [`#d${i}`, appliedAttribute(nonce)]));
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.counters(),
          UpdateExpression:
            'ADD #objects :objects, #bytes :bytes SET #nonce = :one' +
            (drops.length > 0 ? ` REMOVE ${Object.keys(dropNames).join(', ')}` : ''),
          ConditionExpression: 'attribute_not_exists(#nonce)',
          ExpressionAttributeNames: {
            '#objects': 'objects',
            '#bytes': 'bytes',
            '#nonce': appliedAttribute(count.nonce),
            ...dropNames,
          },
          ExpressionAttributeValues: {
            ':objects': count.change,
            ':bytes': count.change * count.size,
            ':one': 1,
          },
        }),
      );
    } catch (error) {
      for (const nonce of drops) if (!this.#settledNonces.includes(nonce)) this.#settledNonces.push(nonce); // not dropped this time
      if (!isConditionFailure(error)) throw error; // applied by an earlier or a racing call
    }
  }

  /**
   * Finishes an uncount (-1) under way on a key claim: takes it out of the totals once, then
   * removes the claim's count (only if it still names that uncount); its nonce may go then, as
   * no claim names it.
   */
  private async finishClaimCount(
    key: string,
    uncount: Extract<ClaimCount, { state: 'pending' }>,
  ): Promise<void> {
    await this.applyToTotals(uncount);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.keyClaim(key),
          UpdateExpression: 'REMOVE #count',
          ConditionExpression: '#count = :pending',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':pending': claimCountText(uncount) },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // settled by a racing call
    }
    // Two finishers of one uncount (a retry and a racing worker) queue its nonce once.
    if (!this.#settledNonces.includes(uncount.nonce)) this.#settledNonces.push(uncount.nonce);
    this.#remember(uncount);
  }

  /**
   * Writes the markers of the applied counts (25 a request); their nonces may be dropped then.
   * Between flushes only full requests go (counts keep arriving while one is written).
   */
  private async writeSettledMarkers(options: { readonly fullBatchesOnly?: boolean } = {}): Promise<void> {
    while (this.#unmarked.length >= (options.fullBatchesOnly ? WRITE_BATCH : 1)) {
      const nonces = this.#unmarked.splice(0, WRITE_BATCH);
      try {
        const requests: Record<string, unknown>[] = nonces.map((nonce) => ({
          PutRequest: { Item: { ...keys.settledCount(nonce) } },
        }));
        await batchWriteAll(this.client, this.table, requests, 'DynamoDB left count markers unwritten');
      } catch (error) {
        // Still applied and remembered by the counters item: the next flush writes them.
        this.#unmarked.unshift(...nonces);
        throw error;
      }
      this.#markersWritten(nonces);
    }
  }

  /** Markers durable: their nonces may leave the counters item with its next write. */
  #markersWritten(nonces: readonly string[]): void {
    for (const nonce of nonces) if (!this.#settledNonces.includes(nonce)) this.#settledNonces.push(nonce);
  }

  async flush(): Promise<void> {
    await this.writeSettledMarkers();
    while (this.#settledNonces.length > 0) {
      const drops = this.#settledNonces.splice(0, 50);
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.counters(),
          UpdateExpression: `REMOVE ${drops.map((_, i) => `#d${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(
            drops.map((nonce, i) => [`#d${i}`, appliedAttribute(nonce)]),
          ),
        }),
      );
    }
  }

  /** The count of an object whose claim keeps none (claims from before): its own `object#` item. */
  private async countObjectItem(key: string, size: number): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const pending = { key, size, pending: randomUUID(), change: 1 as const };
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...keys.countedObject(key), ...pending },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        await this.finishCount(pending);
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const found = await this.get(keys.countedObject(key), countedObjectItemSchema);
      if (found?.pending !== undefined && found.change !== undefined) {
        await this.finishCount({ ...found, pending: found.pending, change: found.change });
        if (found.change === 1) return;
        continue; // an uncount was under way: the object is gone from the totals, count it anew
      }
      if (found !== undefined) return; // counted already
      if (attempt >= CLAIM_ATTEMPTS) throw new ConflictError(`the count of ${key} kept changing under us`);
    }
  }

  private async uncountObjectItem(key: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const found = await this.get(keys.countedObject(key), countedObjectItemSchema);
      if (found === undefined) return;
      if (found.pending !== undefined && found.change !== undefined) {
        await this.finishCount({ ...found, pending: found.pending, change: found.change });
        if (found.change === -1) return;
        continue;
      }
      const pending = { key: found.key, size: found.size, pending: randomUUID(), change: -1 as const };
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: keys.countedObject(key),
            UpdateExpression: 'SET #pending = :pending, #change = :change',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#pending)',
            ExpressionAttributeNames: { '#pending': 'pending', '#change': 'change' },
            ExpressionAttributeValues: { ':pending': pending.pending, ':change': -1 },
          }),
        );
        await this.finishCount(pending);
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      if (attempt >= CLAIM_ATTEMPTS) throw new ConflictError(`the count of ${key} kept changing under us`);
    }
  }

  /** Applies a pending count to the totals once, settles the object item, drops the nonce. */
  private async finishCount(count: {
    readonly key: string;
    readonly size: number;
    readonly pending: string;
    readonly change: 1 | -1;
  }): Promise<void> {
    const nonce = new Set([count.pending]);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.counters(),
          UpdateExpression: 'ADD #objects :objects, #bytes :bytes, #applied :nonce',
          ConditionExpression: 'NOT contains(#applied, :pending)',
          ExpressionAttributeNames: { '#objects': 'objects', '#bytes': 'bytes', '#applied': 'applied' },
          ExpressionAttributeValues: {
            ':objects': count.change,
            ':bytes': count.change * count.size,
            ':nonce': nonce,
            ':pending': count.pending,
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // applied by an earlier or a racing call
    }
    try {
      await this.client.send(
        count.change === 1
          ? new UpdateCommand({
              TableName: this.table,
              Key: keys.countedObject(count.key),
              UpdateExpression: 'REMOVE #pending, #change',
              ConditionExpression: '#pending = :pending',
              ExpressionAttributeNames: { '#pending': 'pending', '#change': 'change' },
              ExpressionAttributeValues: { ':pending': count.pending },
            })
          : new DeleteCommand({
              TableName: this.table,
              Key: keys.countedObject(count.key),
              ConditionExpression: '#pending = :pending',
              ExpressionAttributeNames: { '#pending': 'pending' },
              ExpressionAttributeValues: { ':pending': count.pending },
            }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // settled by a racing call
    }
    // Only now may the nonce go: the object item no longer names it, so nobody applies it again.
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.counters(),
        UpdateExpression: 'DELETE #applied :nonce',
        ExpressionAttributeNames: { '#applied': 'applied' },
        ExpressionAttributeValues: { ':nonce': nonce },
      }),
    );
  }
}
