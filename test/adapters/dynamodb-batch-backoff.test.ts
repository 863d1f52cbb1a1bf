/**
 * What BatchWriteItem and BatchGetItem leave unprocessed (throttling) is sent again after an
 * exponential backoff with full jitter, as AWS recommends, not at once: a fake client answers
 * with leftovers for several calls, and the pauses between rounds are recorded, not slept.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { BATCH_ROUNDS, batchGetAll, batchWriteAll } from '#adapters/aws/dynamodb-batch.ts';

const TABLE = 'state';

/** Answers each call with all but one of its requests unprocessed, `throttledCalls` times. */
function throttlingClient(throttledCalls: number) {
  const calls: number[] = [];
  const client = {
    send: async (command: { input: { RequestItems: Record<string, unknown> } }) => {
      const asked = command.input.RequestItems[TABLE] as unknown[] | { Keys: unknown[] };
      const writes = Array.isArray(asked);
      const items = writes ? asked : asked.Keys;
      calls.push(items.length);
      const left = calls.length <= throttledCalls ? items.slice(1) : [];
      const done = calls.length <= throttledCalls ? items.slice(0, 1) : items;
      return writes
        ? { UnprocessedItems: left.length > 0 ? { [TABLE]: left } : {} }
        : {
            Responses: { [TABLE]: done },
            UnprocessedKeys: left.length > 0 ? { [TABLE]: { Keys: left } } : {},
          };
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
}

function recordedPacing(random = () => 1) {
  const pauses: number[] = [];
  return { pauses, pacing: { sleep: async (ms: number) => void pauses.push(ms), random } };
}

const puts = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: { pk: 'p', sk: `${i}` } } }));

describe('batch leftovers are retried with backoff', () => {
  it('pauses longer before each round and succeeds once DynamoDB takes the rest', async () => {
    const { client, calls } = throttlingClient(4);
    const { pauses, pacing } = recordedPacing();

    await batchWriteAll(client, TABLE, puts(10), 'left unwritten', pacing);

    expect(calls).toEqual([10, 9, 8, 7, 6]);
    expect(pauses).toHaveLength(4);
    for (let i = 1; i < pauses.length; i++) expect(pauses[i]!).toBeGreaterThan(pauses[i - 1]!);
    expect(pauses[0]!).toBeGreaterThan(0);
  });

  it('draws each pause at random below its bound (full jitter)', async () => {
    const { client } = throttlingClient(3);
    const full = recordedPacing(() => 1);
    const half = recordedPacing(() => 0.5);
    await batchWriteAll(throttlingClient(3).client, TABLE, puts(5), 'left unwritten', full.pacing);
    await batchWriteAll(client, TABLE, puts(5), 'left unwritten', half.pacing);
    expect(full.pauses).toHaveLength(3);
    expect(half.pauses).toEqual(full.pauses.map((ms) => Math.floor(ms / 2)));
  });

  it('reads leftover keys again with the same backoff', async () => {
    const { client, calls } = throttlingClient(2);
    const { pauses, pacing } = recordedPacing();
    const found: unknown[] = [];

    await batchGetAll(
      client,
      TABLE,
      [{ a: 1 }, { a: 2 }, { a: 3 }],
      'left unread',
      (raw) => found.push(raw),
      pacing,
    );

    expect(calls).toEqual([3, 2, 1]);
    expect(found).toHaveLength(3);
    expect(pauses).toHaveLength(2);
    expect(pauses[1]!).toBeGreaterThan(pauses[0]!);
  });

  it('still gives up after its rounds', async () => {
    const { client, calls } = throttlingClient(100);
    const { pauses, pacing } = recordedPacing();

    await expect(batchWriteAll(client, TABLE, puts(25), 'left unwritten', pacing)).rejects.toThrow(
      'left unwritten',
    );

    expect(calls).toHaveLength(BATCH_ROUNDS);
    expect(pauses).toHaveLength(BATCH_ROUNDS - 1);
  });
});
