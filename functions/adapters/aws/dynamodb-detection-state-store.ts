/**
 * The state table as the change detector uses it (`DetectionStateStore`): tokens and
 * checkpoints, the last check, locks, the reconciling enumeration's stamps, runs started and
 * finished, on top of what `DynamoDbStateTable` shares. The detector's Lambda composes this
 * alone, so its bundle carries no claims or counts (docs/state.md, item by item); it reads master
 * users (the shared part), to count a master's tombstone against the mirror safety stop.
 */
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ArchiveSettings, ArchiveSettingsInput } from '#domain/model/archive-settings.ts';
import type { RunKind, RunOutcome, RunRef } from '#domain/model/run.ts';
import {
  type DatabaseSyncState,
  type FailedPhotoRetry,
  type JsonValue,
  type LockAttempt,
  type LockLease,
  MAX_CHECKPOINT_BYTES,
  type SharedAlbumsCheck,
  type SharedAlbumsFailing,
  type ZoneSyncState,
  type ZoneSyncStateInput,
  type ZonesAndRetries,
} from '#domain/model/sync-state.ts';
import { type DatabaseScope, type ZoneRef, zoneId } from '#domain/model/zone.ts';
import { streakContinuesFrom } from '#domain/shared-albums/failing-streak.ts';
import type * as z from '#shared/zod.ts';
import { InvalidInputError } from '../../domain/errors.ts';
import type { DetectionStateStore, UnseenAsset, UnseenAssetsPage } from '../../ports/sync-state-store.ts';
import { batchGetAll, batchWriteAll } from './dynamodb-batch.ts';
import { queryPartition } from './dynamodb-query.ts';
import {
  CLAIM_ATTEMPTS,
  DynamoDbStateTable,
  type DynamoDbStateTableOptions,
  expectRevision,
  isConditionFailure,
  WRITE_BATCH,
} from './dynamodb-state-table.ts';
import {
  archiveSettingsItemSchema,
  databaseItemSchema,
  keys,
  lastCheckItemSchema,
  lockItemSchema,
  MANIFEST_SHARDS,
  manifestShard,
  manifestWalkCursorSchema,
  RETRY_PREFIX,
  retryItemSchema,
  SHARED_ALBUMS_FAILING,
  seenItemSchema,
  sharedAlbumsFailingOf,
  unseenItemSchema,
  withoutKeys,
  withoutUndefined,
  zoneItemSchema,
} from './state-items.ts';

export interface DynamoDbDetectionStateStoreOptions extends DynamoDbStateTableOptions {
  /** Manifest entries per `unseenAssets` page (100, BatchGetItem's limit; smaller in tests). */
  readonly unseenPageSize?: number;
}

/** Manifest entries read per page of `unseenAssets` (and BatchGetItem's limit for their stamps). */
const UNSEEN_PAGE = 100;

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

export class DynamoDbDetectionStateStore extends DynamoDbStateTable implements DetectionStateStore {
  private readonly unseenPageSize: number;

  constructor(options: DynamoDbDetectionStateStoreOptions) {
    super(options);
    this.unseenPageSize = Math.min(options.unseenPageSize ?? UNSEEN_PAGE, UNSEEN_PAGE);
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

  async recordCheck(at: number, sharedAlbums?: SharedAlbumsCheck): Promise<SharedAlbumsFailing | undefined> {
    // The Shared Albums streak rides on this write: no request of its own on any run.
    const failed = typeof sharedAlbums === 'object' ? sharedAlbums.failed : undefined;
    const later = 'attribute_not_exists(lastCheckedAt) OR lastCheckedAt < :at';
    if (failed === undefined) {
      await this.updateCheck(
        sharedAlbums === 'notFailing'
          ? `SET lastCheckedAt = :at REMOVE ${SHARED_ALBUMS_FAILING.join(', ')}`
          : 'SET lastCheckedAt = :at',
        later,
        { ':at': at },
      );
      return undefined;
    }
    const values = { ':at': at, ':class': failed.errorClass, ':message': failed.message };
    const failure =
      'sharedAlbumsLastFailedAt = :at, sharedAlbumsErrorClass = :class, sharedAlbumsMessage = :message';
    // A failure goes on with the streak when its last failure is recent (failing-streak.ts
    // `continuesStreak`); a streak an older release kept without its last failure starts afresh.
    const goesOn = await this.updateCheck(
      `SET lastCheckedAt = :at, sharedAlbumsFailingSince = if_not_exists(sharedAlbumsFailingSince, :at), ${failure}`,
      `(${later}) AND (attribute_not_exists(sharedAlbumsFailingSince) OR sharedAlbumsLastFailedAt >= :from)`,
      { ...values, ':from': streakContinuesFrom(at) },
    );
    if (goesOn !== 'refused') return goesOn;
    // Refused: a later check is stored (then this one is refused too), or the streak's last
    // failure is too old (a latch, a stopped schedule between): this failure starts a new one.
    // One request more, on such a failure only.
    const restarted = await this.updateCheck(
      `SET lastCheckedAt = :at, sharedAlbumsFailingSince = :at, ${failure} REMOVE sharedAlbumsReportedAt`,
      later,
      values,
    );
    return restarted === 'refused' ? undefined : restarted;
  }

  /** One conditional update of the last-check item: the streak it then holds, or `refused`. */
  private async updateCheck(
    update: string,
    condition: string,
    values: Record<string, string | number>,
  ): Promise<SharedAlbumsFailing | 'refused' | undefined> {
    try {
      const answer = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lastCheck(),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ...(':class' in values ? { ReturnValues: 'ALL_NEW' as const } : {}),
        }),
      );
      if (!(':class' in values)) return undefined;
      return sharedAlbumsFailingOf(lastCheckItemSchema.parse(answer.Attributes));
    } catch (error) {
      // A later check already stored a later time: keeping it is right.
      if (!isConditionFailure(error)) throw error;
      return 'refused';
    }
  }

  async markSharedAlbumsFailingReported(since: number, at: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.lastCheck(),
          UpdateExpression: 'SET sharedAlbumsReportedAt = :at',
          ConditionExpression:
            'sharedAlbumsFailingSince = :since AND attribute_not_exists(sharedAlbumsReportedAt)',
          ExpressionAttributeValues: { ':at': at, ':since': since },
        }),
      );
      return true;
    } catch (error) {
      // Told already (another run), or the streak ended: nothing to tell.
      if (!isConditionFailure(error)) throw error;
      return false;
    }
  }

  async loadArchiveSettings(): Promise<ArchiveSettings | undefined> {
    const item = await this.get(keys.archiveSettings(), archiveSettingsItemSchema);
    return item === undefined ? undefined : withoutKeys(item);
  }

  async saveArchiveSettings(
    settings: ArchiveSettingsInput,
    expectedRevision: number,
  ): Promise<ArchiveSettings> {
    const saved: ArchiveSettings = { ...settings, updatedAt: this.now(), revision: expectedRevision + 1 };
    await this.putConditional(
      { ...keys.archiveSettings(), ...saved },
      expectRevision(expectedRevision),
      `the archive's recorded settings changed since revision ${expectedRevision}`,
    );
    return saved;
  }

  async loadZone(zone: ZoneRef): Promise<ZoneSyncState | undefined> {
    const item = await this.get(keys.zone(zone), zoneItemSchema);
    return item === undefined ? undefined : this.toZoneState(item);
  }

  async loadZones(): Promise<ZoneSyncState[]> {
    return (await this.loadZonesAndRetries()).zones;
  }

  /** One Query of the zone partition: the zone states and, beside them, the retry items. */
  async loadZonesAndRetries(): Promise<ZonesAndRetries> {
    const found: ZonesAndRetries = { zones: [], retries: [] };
    await queryPartition(this.client, this.table, keys.zones, (item) => {
      if (String(item.sk).startsWith(RETRY_PREFIX))
        found.retries.push(withoutKeys(retryItemSchema.parse(item)));
      else found.zones.push(this.toZoneState(zoneItemSchema.parse(item)));
    });
    return found;
  }

  recordRetryTried(retry: FailedPhotoRetry, tries: number, at: number): Promise<void> {
    // Left the list meanwhile (archived): a try is no reason to bring it back.
    return this.#ifStill(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.retry(retry),
        UpdateExpression: 'SET tries = :tries, lastTriedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':tries': tries, ':at': at },
      }),
    );
  }

  dropRetry(retry: FailedPhotoRetry): Promise<void> {
    // A failure since `retry` was read keeps it listed.
    return this.#ifStill(
      new DeleteCommand({
        TableName: this.table,
        Key: keys.retry(retry),
        ConditionExpression: 'failedAt = :failedAt',
        ExpressionAttributeValues: { ':failedAt': retry.failedAt },
      }),
    );
  }

  /** Sends a conditional write; a condition that no longer holds makes it a no-op. */
  async #ifStill(command: UpdateCommand | DeleteCommand): Promise<void> {
    try {
      await this.client.send(command as UpdateCommand);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
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

  // -- runs, started and finished ---------------------------------------------------------

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
}
