/**
 * BatchWriteItem and BatchGetItem until DynamoDB has dealt with every request: under throttling a
 * batch call answers with some left unprocessed, which are sent again after a pause, for at most
 * `BATCH_ROUNDS` rounds before giving up loudly (the caller's message says what was left).
 *
 * The pause: AWS's BatchWriteItem and BatchGetItem references, "If DynamoDB returns any unprocessed
 * items, you should retry the batch operation on those items. However, we strongly recommend that
 * you use an exponential backoff algorithm. If you retry the batch operation immediately, the
 * underlying read or write requests can still fail due to throttling on the individual tables."
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html). The SDK
 * retries a throttled call, not a call that succeeded with leftovers, so the rounds back off here:
 * exponential with full jitter (a random pause below the round's bound, so writers throttled
 * together do not come back together).
 */
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { backoffDelayMs, type RetryPolicy, sleep } from '../../shared/retry.ts';

/** Rounds of retrying what a batch call left unprocessed before giving up. */
export const BATCH_ROUNDS = 8;

/**
 * The pauses' bounds: 50 ms before the second round, doubling up to 3.2 s, so the seven pauses of
 * eight rounds are at most 6.35 s in all (about half on average), within any invocation's time,
 * long enough for DynamoDB's adaptive capacity and a partition's burst to come back.
 */
const BATCH_BACKOFF: RetryPolicy = {
  maxAttempts: BATCH_ROUNDS,
  baseDelayMs: 50,
  maxDelayMs: 3_200,
  retryAfterCapMs: 0,
};

/** How the rounds wait (tests record the pauses instead of sleeping). */
export interface BatchPacing {
  readonly sleep: (ms: number) => Promise<void>;
  /** In [0, 1). */
  readonly random: () => number;
}

const REAL_PACING: BatchPacing = { sleep: (ms) => sleep(ms), random: Math.random };

/** The pause before round `round` (1 = the first retry): full jitter under an exponential bound. */
export function pauseBeforeRound(round: number, random: () => number): number {
  return backoffDelayMs(round, BATCH_BACKOFF, random);
}

/** Sends one BatchWriteItem's requests (at most 25) until none is left unprocessed. */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  table: string,
  requests: Record<string, unknown>[],
  leftUnwritten: string,
  pacing: BatchPacing = REAL_PACING,
): Promise<void> {
  let left = requests;
  for (let round = 0; left.length > 0; round += 1) {
    if (round === BATCH_ROUNDS) throw new Error(leftUnwritten);
    if (round > 0) await pacing.sleep(pauseBeforeRound(round, pacing.random));
    const output = await client.send(new BatchWriteCommand({ RequestItems: { [table]: left } }));
    left = (output.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
  }
}

/** Reads one BatchGetItem's keys (at most 100, consistently) until each is answered; hands each item found to `onItem`. */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
  leftUnread: string,
  onItem: (raw: Record<string, unknown>) => void,
  pacing: BatchPacing = REAL_PACING,
): Promise<void> {
  let wanted = keys;
  for (let round = 0; wanted.length > 0; round += 1) {
    if (round === BATCH_ROUNDS) throw new Error(leftUnread);
    if (round > 0) await pacing.sleep(pauseBeforeRound(round, pacing.random));
    const output = await client.send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: wanted, ConsistentRead: true } } }),
    );
    for (const raw of output.Responses?.[table] ?? []) onItem(raw);
    wanted = (output.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
  }
}
