/**
 * The state table as the download workers use it (`DynamoDbArchiveStateStore`, the only part
 * their Lambda composes): manifest writes, key claims and transfer leases, the users of each
 * master, run failures, and the totals' exactly-once counting, on top of what
 * `DynamoDbStateTable` shares. And the whole `SyncStateStore` (`DynamoDbSyncStateStore`) for the
 * CLI and the one-machine runtime. Every racing write is a conditional PutItem, UpdateItem or
 * DeleteItem, or such Puts in one transaction for a work message (docs/state.md, item by item).
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import {
  type ArchiveCounters,
  type AssetRef,
  assetId,
  type BatchWriteOutcome,
  type ClaimOutcome,
  type FreshKeyClaim,
  type LeasedClaim,
  type ManifestEntry,
  type ManifestEntryInput,
  type TransferClaim,
} from '#domain/model/manifest.ts';
import { MAX_RUN_FAILURES, type RunFailure, type RunRecord, type RunRef } from '#domain/model/run.ts';
import type { LockLease } from '#domain/model/sync-state.ts';
import { ConflictError } from '../../domain/errors.ts';
import type { UploadCheckpoint } from '../../ports/object-store.ts';
import type {
  ArchiveStateStore,
  DetectionStateStore,
  LastCheck,
  SyncStateStore,
} from '../../ports/sync-state-store.ts';
import { batchGetAll, batchWriteAll } from './dynamodb-batch.ts';
import {
  DynamoDbDetectionStateStore,
  type DynamoDbDetectionStateStoreOptions,
} from './dynamodb-detection-state-store.ts';
import {
  CLAIM_ATTEMPTS,
  DynamoDbStateTable,
  expectRevision,
  isConditionFailure,
  READ_BATCH,
  WRITE_BATCH,
} from './dynamodb-state-table.ts';
import { transactPuts, transactWrite } from './dynamodb-transaction.ts';
import {
  appliedAttribute,
  type ClaimCount,
  claimCountText,
  countedObjectItemSchema,
  countersItemSchema,
  type ItemKey,
  keyClaimItemSchema,
  keys,
  lastCheckItemSchema,
  MANIFEST_SHARDS,
  manifestItemSchema,
  manifestShard,
  parseClaimCount,
  runItemSchema,
  settledCountItemSchema,
  sharedAlbumsFailingOf,
  transferCheckpointSchema,
  withoutKeys,
  withoutUndefined,
} from './state-items.ts';

/** What a claim of `key` by `holder` starts: its transfer lease and, given the object's size, its count. */
function claimStart(
  key: string,
  holder: string,
  leaseMs: number,
  size: number | undefined,
  now: number,
): { readonly lease: LockLease; readonly pending: string | undefined } {
  return {
    lease: { name: key, owner: holder, expiresAt: now + leaseMs },
    pending:
      size === undefined
        ? undefined
        : claimCountText({ state: 'pending', change: 1, nonce: randomUUID(), size }),
  };
}

/** A claim that found none before it: nothing stored at its key yet, its count (if any) started by it. */
function freshClaim({ lease, pending }: ReturnType<typeof claimStart>): LeasedClaim {
  return {
    claimed: true,
    fresh: true,
    lease,
    ...(pending === undefined ? {} : { count: `mine:${pending}` }),
  };
}

/** Tries of a write to the counters item that a transaction on it (another worker's count) held back. */
const COUNTERS_ATTEMPTS = 5;

/** A short random pause before trying the counters item again: the racing transaction is brief. */
function countersBackoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * 2 ** attempt));
}

/** What a write to the counters item resolves when only a racing transaction held it back. */
const HELD_BACK = Symbol('held back by a racing transaction');

/**
 * Makes a write to the counters item, again after a short random pause while a racing transaction
 * (another worker's count) holds it back: `write` resolves `HELD_BACK` (its transaction was
 * cancelled for `TransactionConflict`) or throws TransactionConflictException (a plain write,
 * which the SDK does not retry). Five tries: then ConflictError, or that exception.
 */
async function whileHeldBack<T>(write: () => Promise<T | typeof HELD_BACK>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await write();
      if (result !== HELD_BACK) return result;
    } catch (error) {
      if ((error as { name?: unknown })?.name !== 'TransactionConflictException') throw error;
      if (attempt >= COUNTERS_ATTEMPTS) throw error;
    }
    if (attempt >= COUNTERS_ATTEMPTS) throw new ConflictError('the archive counters kept changing under us');
    await countersBackoff(attempt);
  }
}

export class DynamoDbArchiveStateStore extends DynamoDbStateTable implements ArchiveStateStore {
  async putObjectKey(objectId: string, key: string): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.table, Item: { ...keys.objectKey(objectId), key } }),
    );
  }

  async forgetObjectKey(objectId: string, key: string): Promise<void> {
    await this.deleteWhere(keys.objectKey(objectId), 'key', key);
  }

  /** Deletes the item at `key` while its `attribute` is `value`; false (nothing deleted) otherwise. */
  private async deleteWhere(key: ItemKey, attribute: string, value: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: key,
          ConditionExpression: '#a = :v',
          ExpressionAttributeNames: { '#a': attribute },
          ExpressionAttributeValues: { ':v': value },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  // -- the manifest, written --------------------------------------------------------------

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

  async putEntries(
    writes: readonly { readonly entry: ManifestEntryInput; readonly expectedRevision: number }[],
  ): Promise<BatchWriteOutcome<ManifestEntry>> {
    const updatedAt = this.now();
    const saved = writes.map(({ entry, expectedRevision }) =>
      withoutUndefined<ManifestEntry>({ ...entry, updatedAt, revision: expectedRevision + 1 }),
    );
    const refused = await transactPuts(
      this.client,
      this.table,
      writes.map(({ entry, expectedRevision }, index) => ({
        Item: { ...keys.manifest(entry), ...saved[index] },
        ...expectRevision(expectedRevision),
      })),
    );
    return refused ?? { written: saved };
  }

  // -- claims -----------------------------------------------------------------------------

  async claimFreshKeys(claims: readonly FreshKeyClaim[]): Promise<BatchWriteOutcome<LeasedClaim>> {
    const now = this.now();
    const made = claims.map(({ key, holder, leaseMs, size }) => claimStart(key, holder, leaseMs, size, now));
    // Exactly the item a fresh claimTransfer creates, under the condition that there was none;
    // after the claims, each owner's key item (unconditional: only a claim can refuse).
    const owners = new Map<string, string>();
    for (const { owner, key } of claims) if (!owners.has(owner)) owners.set(owner, key);
    const refused = await transactPuts(this.client, this.table, [
      ...claims.map(({ key, owner, holder }, index) => {
        const { lease, pending } = made[index]!;
        return {
          Item: {
            ...keys.keyClaim(key),
            owner,
            key,
            leaseHolder: holder,
            leaseExpiresAt: lease.expiresAt,
            ...(pending === undefined ? {} : { count: pending }),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        };
      }),
      ...[...owners].map(([owner, key]) => ({ Item: { ...keys.objectKey(owner), key } })),
    ]);
    return refused ?? { written: made.map(freshClaim) };
  }

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
      // The object's count starts here when it has none: no write of its own (docs/state.md).
      const start = claimStart(key, holder, leaseMs, size, now);
      const { lease, pending } = start;
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
        if (old === undefined) return freshClaim(start);
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

  async getTransferCheckpoint(key: string): Promise<UploadCheckpoint | undefined> {
    return (await this.get(keys.keyClaim(key), keyClaimItemSchema))?.checkpoint;
  }

  async saveTransferCheckpoint(lease: LockLease, checkpoint: UploadCheckpoint): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.keyClaim(lease.name),
          UpdateExpression: 'SET #checkpoint = :checkpoint',
          // Fenced: only while the lease is this worker's (a taker's claim names another holder).
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#checkpoint': 'checkpoint', '#holder': 'leaseHolder' },
          ExpressionAttributeValues: {
            ':checkpoint': transferCheckpointSchema.parse(checkpoint),
            ':holder': lease.owner,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async deleteTransferCheckpoint(key: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.keyClaim(key),
          UpdateExpression: 'REMOVE #checkpoint',
          // Never brings back a claim that is gone.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#checkpoint': 'checkpoint' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async keyOwner(key: string): Promise<string | undefined> {
    return (await this.get(keys.keyClaim(key), keyClaimItemSchema))?.owner;
  }

  releaseKey(key: string, owner: string): Promise<boolean> {
    return this.deleteWhere(keys.keyClaim(key), 'owner', owner);
  }

  // -- which assets use a master's objects ------------------------------------------------

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

  // -- runs -------------------------------------------------------------------------------

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

  // -- archive counters -------------------------------------------------------------------

  // Exactly-once counting (docs/state.md, "Counting objects"): the key claim records a pending
  // count under a fresh nonce; the counters item applies a nonce at most once
  // (`attribute_not_exists(applied_<nonce>)`); a `counted#<nonce>` marker then says it was applied,
  // written in batches (a count costs one write beyond the claim), and only once the marker is
  // durable is the nonce dropped from the counters item. A count is applied in one transaction that
  // also checks its marker is absent: an applied count has its nonce on the counters item or its
  // marker (or both) at every moment, so another worker's apply, marker and drop between a read and
  // the write cannot let it count twice. Whoever finds a count under way, a retry after a crash or
  // a racing worker, finishes it with the same nonce, so no step can count twice and none is left
  // undone. An uncount removes the claim's count and takes the object out of the totals in one
  // transaction, under the condition that the claim still holds the count read: whoever comes
  // second finds it gone.

  async countObject(key: string, size: number, count?: string): Promise<void> {
    // Seen on the claim this worker just made: counted already, or the count it started itself.
    if (count?.startsWith('seen:') && parseClaimCount(count.slice(5)).state === 'counted') return;
    const mine = count?.startsWith('mine:') ? count.slice(5) : undefined;
    // Anyone else's count under way (or none known) is read again first: it may be finished now.
    const value = mine ?? (await this.get(keys.keyClaim(key), keyClaimItemSchema))?.count;
    if (value === undefined) return this.countObjectItem(key, size);
    const found = parseClaimCount(value);
    if (found.state === 'counted') return;
    if (found.change === 1) return this.applyClaimCount(found);
    // An uncount an earlier version left under way: the object is out of the totals once it is
    // finished (here or by whoever changed the claim meanwhile), so it is counted anew.
    await this.takeOutOfTotals(key, found);
    return this.countObject(key, size);
  }

  async countObjects(
    objects: readonly { readonly key: string; readonly size: number; readonly count?: string }[],
  ): Promise<void> {
    const pending = new Map<string, Extract<ClaimCount, { state: 'pending' }>>();
    // Nonces of counts found on claims (not started by this worker's claims): likely applied.
    const adopted = new Set<string>();
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
      if (found?.state === 'pending' && found.change === 1) {
        pending.set(found.nonce, found);
        adopted.add(found.nonce);
      } else rest.push(object); // no count on the claim, or an uncount under way: one at a time
    }
    const counts = [...pending.values()].filter((count) => !this.#finished.has(claimCountText(count)));
    for (let i = 0; i < counts.length; i += WRITE_BATCH)
      await this.applyClaimCounts(counts.slice(i, i + WRITE_BATCH), adopted);
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
   * Applies counts to the totals in one transaction, each nonce at most once and none whose marker
   * exists (another worker may have applied it, written its marker and dropped its nonce since
   * this one read anything). Counts found on claims (`adopted`) were likely applied by whoever
   * started them: their markers are read first (one batched read), sparing a cancelled write on
   * a redelivery. A count refused for its marker is applied already; a nonce found applied (its
   * marker not written yet) refuses the whole write: each count is then applied on its own.
   */
  private async applyClaimCounts(
    counts: readonly Extract<ClaimCount, { state: 'pending' }>[],
    adopted: ReadonlySet<string>,
  ): Promise<void> {
    const marked = await this.markedNonces(
      counts.filter((count) => adopted.has(count.nonce)).map((count) => count.nonce),
    );
    for (const count of counts) if (marked.has(count.nonce)) this.#remember(count);
    let todo = counts.filter((count) => !marked.has(count.nonce));
    const applied = await whileHeldBack(async () => {
      for (;;) {
        // Counts this store applied meanwhile (another call) are not tried again.
        todo = todo.filter((count) => !this.#finished.has(claimCountText(count)));
        if (todo.length === 0) return false;
        const refused = await this.addToTotals(todo);
        if (refused === undefined) {
          for (const count of todo) this.#applied(count);
          return true;
        }
        // Only racing transactions held it back: they all go again after a pause.
        if (refused.length === 0) return HELD_BACK;
        for (const index of refused) if (index < todo.length) this.#remember(todo[index]!);
        const totalsRefused = refused.includes(todo.length);
        todo = todo.filter((_, index) => !refused.includes(index));
        if (totalsRefused) {
          for (const count of todo) await this.applyClaimCount(count);
          return false;
        }
        // Counts refused for their markers are applied already: the others go again at once.
      }
    });
    if (applied && this.#unmarked.length >= WRITE_BATCH)
      await this.writeSettledMarkers({ fullBatchesOnly: true });
  }

  /**
   * The transaction that applies counts (+1): each count's marker absent, then the totals added
   * under their nonces' absence, a few settled nonces dropped in the same write. Resolves
   * `undefined` once applied, or the refused positions (a count's position: its marker exists;
   * `counts.length`: the totals, a nonce applied already; none: a racing transaction).
   */
  private async addToTotals(
    counts: readonly Extract<ClaimCount, { state: 'pending' }>[],
  ): Promise<readonly number[] | undefined> {
    const nonces = Object.fromEntries(counts.map((count, i) => [`#n${i}`, appliedAttribute(count.nonce)]));
    const applying = new Set(counts.map((count) => count.nonce));
    const drops = this.#settledNonces.splice(0, WRITE_BATCH).filter((nonce) => !applying.has(nonce));
    const dropNames = Object.fromEntries(drops.map((nonce, i) => [`#d${i}`, appliedAttribute(nonce)]));
    try {
      const refused = await transactWrite(this.client, this.table, [
        ...counts.map((count) => ({
          ConditionCheck: {
            Key: keys.settledCount(count.nonce),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
        {
          Update: {
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
              ':objects': counts.length,
              ':bytes': counts.reduce((sum, count) => sum + count.size, 0),
              ':one': 1,
            },
          },
        },
      ]);
      if (refused !== undefined) this.#keepSettled(drops);
      return refused?.refused;
    } catch (error) {
      this.#keepSettled(drops);
      throw error;
    }
  }

  /** A write to the counters item, made again while a racing transaction holds the item (whileHeldBack). */
  protected sendToCounters(command: UpdateCommand): Promise<UpdateCommandOutput> {
    return whileHeldBack(() => this.client.send(command));
  }

  /** Settled nonces not dropped this time: a later write (or the flush) drops them. */
  #keepSettled(drops: readonly string[]): void {
    for (const nonce of drops) if (!this.#settledNonces.includes(nonce)) this.#settledNonces.push(nonce);
  }

  /** A count applied to the totals (by this store or another whose marker may not be written): its marker queued. */
  #applied(count: Extract<ClaimCount, { state: 'pending' }>): void {
    if (!this.#unmarked.includes(count.nonce)) this.#unmarked.push(count.nonce);
    this.#remember(count);
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
      // A count under way is applied first (once, or found applied): the uncount then takes it out.
      if (found.state === 'pending' && found.change === 1) await this.applyClaimCount(found);
      if (await this.takeOutOfTotals(key, found)) return;
      // Someone else changed the claim's count meanwhile (took the object out, most likely): read it again.
      if (attempt >= CLAIM_ATTEMPTS) throw new ConflictError(`the count of ${key} kept changing under us`);
    }
  }

  /**
   * Takes an object out of the totals once: one transaction removes its claim's `count`, only if
   * it is still `count` (as read), and takes the object's size out of the totals. The claim no
   * longer naming the count is what says it was taken out, in the same atomic write, so two
   * finishers in two processes cannot both take it out. An uncount an earlier version left under
   * way (`u:<nonce>:<size>`) may have been applied under its nonce without its claim settled: the
   * totals' part then also needs the nonce absent, and a refusal there settles the claim as that
   * version would have. Resolves false when the claim's count was no longer `count`.
   */
  private async takeOutOfTotals(key: string, count: ClaimCount): Promise<boolean> {
    const earlier = count.state === 'pending' && count.change === -1 ? count.nonce : undefined;
    return whileHeldBack(async () => {
      const refused = await transactWrite(this.client, this.table, [
        {
          Update: {
            Key: keys.keyClaim(key),
            UpdateExpression: 'REMOVE #count',
            ConditionExpression: '#count = :count',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: { ':count': claimCountText(count) },
          },
        },
        {
          Update: {
            Key: keys.counters(),
            UpdateExpression: 'ADD #objects :objects, #bytes :bytes',
            ...(earlier !== undefined && { ConditionExpression: 'attribute_not_exists(#nonce)' }),
            ExpressionAttributeNames: {
              '#objects': 'objects',
              '#bytes': 'bytes',
              ...(earlier !== undefined && { '#nonce': appliedAttribute(earlier) }),
            },
            ExpressionAttributeValues: { ':objects': -1, ':bytes': -count.size },
          },
        },
      ]);
      if (refused === undefined) return true;
      if (refused.refused.includes(0)) return false;
      if (!refused.refused.includes(1) || earlier === undefined) return HELD_BACK;
      await this.settleEarlierUncount(key, claimCountText(count), earlier);
      return true;
    });
  }

  /**
   * An uncount an earlier version applied (its nonce on the counters item) and died before
   * settling: its claim's count removed (only if it still names that uncount), then its nonce may
   * go from the counters item, as no claim names it any more.
   */
  private async settleEarlierUncount(key: string, uncount: string, nonce: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.keyClaim(key),
          UpdateExpression: 'REMOVE #count',
          ConditionExpression: '#count = :uncount',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':uncount': uncount },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // settled by a racing call
    }
    this.#keepSettled([nonce]);
  }

  /** Nonces whose counts are settled (marker written, or an earlier version's uncount settled on its claim): dropped from the counters item with the next write there. */
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
   * Applies a count under way (+1) to the totals once and queues its marker: one transaction,
   * refused if its marker exists (applied, perhaps by another worker that dropped its nonce since)
   * or its nonce is on the counters item (applied, its marker still to come: queued here too).
   */
  private async applyClaimCount(count: Extract<ClaimCount, { state: 'pending' }>): Promise<void> {
    const done = await whileHeldBack(async () => {
      if (this.#finished.has(claimCountText(count))) return false;
      const refused = await this.addToTotals([count]);
      if (refused === undefined || refused.includes(1)) this.#applied(count);
      else if (refused.includes(0)) this.#remember(count);
      else return HELD_BACK;
      return true;
    });
    if (done && this.#unmarked.length >= WRITE_BATCH)
      await this.writeSettledMarkers({ fullBatchesOnly: true });
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
      await this.sendToCounters(
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
      await this.sendToCounters(
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
    await this.sendToCounters(
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

/**
 * The whole store, for the CLI and the one-machine runtime (which detect and archive): the
 * workers' part, the detector's part on the same table and client (its methods forwarded), and
 * what only the CLI reads (the last check, every manifest entry, the latest runs).
 */
export class DynamoDbSyncStateStore extends DynamoDbArchiveStateStore implements SyncStateStore {
  readonly #detection: DynamoDbDetectionStateStore;

  constructor(options: DynamoDbDetectionStateStoreOptions) {
    super(options);
    this.#detection = new DynamoDbDetectionStateStore(options);
  }

  loadDatabaseState: DetectionStateStore['loadDatabaseState'] = (...args) =>
    this.#detection.loadDatabaseState(...args);
  saveDatabaseToken: DetectionStateStore['saveDatabaseToken'] = (...args) =>
    this.#detection.saveDatabaseToken(...args);
  recordCheck: DetectionStateStore['recordCheck'] = (...args) => this.#detection.recordCheck(...args);
  markSharedAlbumsFailingReported: DetectionStateStore['markSharedAlbumsFailingReported'] = (...args) =>
    this.#detection.markSharedAlbumsFailingReported(...args);
  loadArchiveSettings: DetectionStateStore['loadArchiveSettings'] = () =>
    this.#detection.loadArchiveSettings();
  saveArchiveSettings: DetectionStateStore['saveArchiveSettings'] = (...args) =>
    this.#detection.saveArchiveSettings(...args);
  loadZone: DetectionStateStore['loadZone'] = (...args) => this.#detection.loadZone(...args);
  loadZones: DetectionStateStore['loadZones'] = () => this.#detection.loadZones();
  loadZonesAndRetries: DetectionStateStore['loadZonesAndRetries'] = () =>
    this.#detection.loadZonesAndRetries();
  recordRetryTried: DetectionStateStore['recordRetryTried'] = (...args) =>
    this.#detection.recordRetryTried(...args);
  dropRetry: DetectionStateStore['dropRetry'] = (...args) => this.#detection.dropRetry(...args);
  saveZone: DetectionStateStore['saveZone'] = (...args) => this.#detection.saveZone(...args);
  acquireLock: DetectionStateStore['acquireLock'] = (...args) => this.#detection.acquireLock(...args);
  releaseLock: DetectionStateStore['releaseLock'] = (...args) => this.#detection.releaseLock(...args);
  markSeen: DetectionStateStore['markSeen'] = (...args) => this.#detection.markSeen(...args);
  unseenAssets: DetectionStateStore['unseenAssets'] = (...args) => this.#detection.unseenAssets(...args);
  startRun: DetectionStateStore['startRun'] = (...args) => this.#detection.startRun(...args);
  finishRun: DetectionStateStore['finishRun'] = (...args) => this.#detection.finishRun(...args);

  async lastCheckedAt(): Promise<number | undefined> {
    return (await this.loadLastCheck()).at;
  }

  async loadLastCheck(): Promise<LastCheck> {
    const check = await this.get(keys.lastCheck(), lastCheckItemSchema);
    if (check === undefined) return {};
    const failing = sharedAlbumsFailingOf(check);
    return { at: check.lastCheckedAt, ...(failing === undefined ? {} : { sharedAlbumsFailing: failing }) };
  }

  async recordMissingObjectKey(objectId: string, key: string): Promise<boolean> {
    // One transaction: the claim checked in the same write, so a purge that released the key
    // between the manifest read and now leaves no item naming it. A cancellation for a racing
    // write (a worker claiming the key) writes nothing either: that claim records the key itself.
    const refused = await transactWrite(this.client, this.table, [
      {
        ConditionCheck: {
          Key: keys.keyClaim(key),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': objectId },
        },
      },
      {
        Put: { Item: { ...keys.objectKey(objectId), key }, ConditionExpression: 'attribute_not_exists(pk)' },
      },
    ]);
    return refused === undefined;
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

  async adjustCounters(delta: Partial<ArchiveCounters>): Promise<ArchiveCounters> {
    const output = await this.sendToCounters(
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
}
