import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type ArchiveCounters, type AssetRef, assetId, type ManifestEntry } from '#domain/model/manifest.ts';
import type { RunKind, RunOutcome, RunProgress, RunRef } from '#domain/model/run.ts';
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
import type * as z from '#shared/zod.ts';
import { ConflictError, InvalidInputError } from '../../domain/errors.ts';
import type { DetectionStateStore, UnseenAsset, UnseenAssetsPage } from '../../ports/sync-state-store.ts';
import { batchGetAll, batchWriteAll } from './dynamodb-batch.ts';
import {
  countersItemSchema,
  databaseItemSchema,
  type ItemKey,
  keys,
  lockItemSchema,
  MANIFEST_SHARDS,
  manifestItemSchema,
  manifestShard,
  manifestWalkCursorSchema,
  seenItemSchema,
  unseenItemSchema,
  withoutKeys,
  withoutUndefined,
  zoneItemSchema,
} from './state-items.ts';

export interface DynamoDbStateStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Milliseconds since the epoch; injectable so lock expiry is testable without waiting. */
  readonly now?: () => number;
  /** Manifest entries per `unseenAssets` page (100, BatchGetItem's limit; smaller in tests). */
  readonly unseenPageSize?: number;
}

/** BatchWriteItem's limit. */
export const WRITE_BATCH = 25;
/** BatchGetItem's limit. */
export const READ_BATCH = 100;
/** Manifest entries read per page of `unseenAssets` (and BatchGetItem's limit for their stamps). */
const UNSEEN_PAGE = 100;

/** Attempts at a claim or lock whose holder vanished between the failed write and the read. */
export const CLAIM_ATTEMPTS = 3;

export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

export function expectRevision(expectedRevision: number): {
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

export class DynamoDbDetectionStateStore implements DetectionStateStore {
  protected readonly client: DynamoDBDocumentClient;
  protected readonly table: string;
  protected readonly now: () => number;
  private readonly unseenPageSize: number;

  constructor(options: DynamoDbStateStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
    this.unseenPageSize = Math.min(options.unseenPageSize ?? UNSEEN_PAGE, UNSEEN_PAGE);
  }

  protected async get<S extends z.ZodMiniType>(key: ItemKey, schema: S): Promise<z.infer<S> | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
    );
    return output.Item === undefined ? undefined : schema.parse(output.Item);
  }

  protected async putConditional(
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

  // -- the manifest, read -----------------------------------------------------------------

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

  // -- reconciling a full enumeration -----------------------------------------------------

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

  // -- the totals -------------------------------------------------------------------------

  async getCounters(): Promise<ArchiveCounters> {
    const item = await this.get(keys.counters(), countersItemSchema);
    return { objects: item?.objects ?? 0, bytes: item?.bytes ?? 0 };
  }
}
