/**
 * The state table (one DynamoDB table, `pk`/`sk` strings, on demand): what its two parts share.
 * `DynamoDbDetectionStateStore` (the change detector's) and `DynamoDbArchiveStateStore` (the
 * download workers') build on this class, so each Lambda bundle carries its own part alone;
 * `DynamoDbSyncStateStore` is both, for the CLI and the one-machine runtime. Here: the client,
 * consistent reads, conditional puts, manifest reads and the users of each master, run progress and
 * the totals.
 *
 * Every racing write is a conditional PutItem, UpdateItem or DeleteItem, or such Puts batched in
 * a TransactWriteItems (a work message's fresh claims and entries, dynamodb-transaction.ts); no
 * TTL API or PartiQL, so the same code runs on dynalite (with the local runtime's transactions)
 * for the one-machine runtime. Why that is enough, item by item, is in docs/state.md; the items'
 * layouts are state-items.ts's. The DocumentClient is injected (built once per cold start). Reads that a
 * compare-and-set depends on are strongly consistent.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ArchiveOwner } from '#domain/model/archive-owner.ts';
import {
  type ArchiveCounters,
  type AssetRef,
  assetId,
  type EntriesAndObjectKeys,
  type ManifestEntry,
} from '#domain/model/manifest.ts';
import type { RunProgress, RunRef } from '#domain/model/run.ts';
import type * as z from '#shared/zod.ts';
import { ConflictError, InvalidInputError } from '../../domain/errors.ts';
import type { DetectionStateStore, NoteFailedOptions } from '../../ports/sync-state-store.ts';
import { batchGetAll } from './dynamodb-batch.ts';
import { queryPartition } from './dynamodb-query.ts';
import {
  archiveOwnerItemSchema,
  countersItemSchema,
  type ItemKey,
  keys,
  manifestItemSchema,
  masterUserItemSchema,
  OBJECT_KEY_PREFIX,
  objectKeyItemSchema,
  withoutKeys,
  withoutUndefined,
} from './state-items.ts';

export interface DynamoDbStateTableOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Milliseconds since the epoch; injectable so lock expiry is testable without waiting. */
  readonly now?: () => number;
}

/** BatchWriteItem's limit. */
export const WRITE_BATCH = 25;
/** BatchGetItem's limit. */
export const READ_BATCH = 100;
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

/** What both parts of the store share; it is never composed alone. */
export class DynamoDbStateTable
  implements
    Pick<
      DetectionStateStore,
      'getEntry' | 'getEntries' | 'masterUsers' | 'addRunProgress' | 'getCounters' | 'noteFailedForRetry'
    >
{
  protected readonly client: DynamoDBDocumentClient;
  protected readonly table: string;
  protected readonly now: () => number;

  constructor(options: DynamoDbStateTableOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
  }

  /** One item, strongly consistent, parsed by its schema. */
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

  // -- the archive's account ----------------------------------------------------------------

  async loadArchiveOwner(): Promise<ArchiveOwner | undefined> {
    const item = await this.get(keys.archiveOwner(), archiveOwnerItemSchema);
    if (item === undefined) return undefined;
    const { accountId, label, since } = item;
    return { accountId, ...(label === undefined ? {} : { label }), since };
  }

  async recordArchiveOwner(owner: ArchiveOwner): Promise<ArchiveOwner> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: withoutUndefined({ ...keys.archiveOwner(), ...owner }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return owner;
    } catch (error) {
      // Another run recorded one first: theirs stands.
      if (!isConditionFailure(error)) throw error;
      return (await this.loadArchiveOwner()) ?? owner;
    }
  }

  // -- the manifest, read -----------------------------------------------------------------

  async getEntry(ref: AssetRef): Promise<ManifestEntry | undefined> {
    const item = await this.get(keys.manifest(ref), manifestItemSchema);
    return item === undefined ? undefined : withoutKeys(item);
  }

  async getEntries(refs: readonly AssetRef[]): Promise<Map<string, ManifestEntry>> {
    return (await this.getEntriesAndObjectKeys(refs, [])).entries;
  }

  /** The entries of `refs` and the recorded keys of `objectIds` (ArchiveStateStore), in batched reads. */
  async getEntriesAndObjectKeys(
    refs: readonly AssetRef[],
    objectIds: readonly string[],
  ): Promise<EntriesAndObjectKeys> {
    const entries = new Map<string, ManifestEntry>();
    const objectKeys = new Map<string, string>();
    const wanted: Record<string, unknown>[] = [
      ...[...new Map(refs.map((ref) => [assetId(ref), ref])).values()].map((ref) => ({
        ...keys.manifest(ref),
      })),
      ...[...new Set(objectIds)].map((id) => ({ ...keys.objectKey(id) })),
    ];
    for (let i = 0; i < wanted.length; i += READ_BATCH) {
      const page = wanted.slice(i, i + READ_BATCH);
      await batchGetAll(this.client, this.table, page, 'DynamoDB left manifest entries unread', (raw) => {
        const pk = String(raw['pk']);
        if (pk.startsWith(OBJECT_KEY_PREFIX))
          objectKeys.set(pk.slice(OBJECT_KEY_PREFIX.length), objectKeyItemSchema.parse(raw).key);
        else {
          const entry = withoutKeys(manifestItemSchema.parse(raw));
          entries.set(assetId(entry), entry);
        }
      });
    }
    return { entries, objectKeys };
  }

  async masterUsers(masterRecordName: string): Promise<AssetRef[]> {
    // Strongly consistent: a purge must see the user a worker under way has just recorded.
    return queryPartition(this.client, this.table, keys.masterUsers(masterRecordName), (item) => {
      const { zone, assetRecordName } = masterUserItemSchema.parse(item);
      return { zone, assetRecordName };
    });
  }

  // -- the failed photos' retry list (the workers' failures, the detector's given-up work) --

  async noteFailedForRetry(ref: AssetRef, failedAt: number, options?: NoteFailedOptions): Promise<boolean> {
    // UPDATED_OLD: the item's old `tries` when it was listed already, nothing when it is new.
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.retry(ref),
        UpdateExpression:
          'SET #zone = :zone, assetRecordName = :name, failedAt = :at, tries = if_not_exists(tries, :tries)',
        ExpressionAttributeNames: { '#zone': 'zone' },
        ExpressionAttributeValues: {
          ':zone': ref.zone,
          ':name': ref.assetRecordName,
          ':at': failedAt,
          ':tries': options?.tries ?? 0,
        },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    return Attributes?.['tries'] === undefined;
  }

  // -- runs -------------------------------------------------------------------------------

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

  protected async updateRun(
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
