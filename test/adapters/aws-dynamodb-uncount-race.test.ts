/**
 * Two processes (two stores on one table, nothing shared in memory) take the same object out of
 * the totals at once: two purges of one object, a purge and a later count of the same key, or two
 * finishers of an uncount left under way on its claim. The uncount had no marker: each finisher
 * read the claim's `u:` count, and the one that wrote last found the nonce gone from the counters
 * item (the first had applied it, removed the claim's count and dropped the nonce meanwhile), so
 * it took the object out a second time: the totals one object and its bytes too low. The uncount
 * is now one transaction that removes the claim's count (under the condition that it is still the
 * one read) and takes the object out of the totals: whoever comes second finds it done.
 */
import { type DynamoDBDocumentClient, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { keys } from '#adapters/aws/state-items.ts';
import { signal } from '#shared/signal.ts';
import { manualClock } from '#test/fakes/contracts/sync-state-store-contract.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

const KEY = '2024/IMG_1.HEIC';
const CLAIM = keys.keyClaim(KEY).pk;

type Command = { constructor: { name: string }; input: unknown };

/** The local table's client, with `around` called on each request: before it and after its answer. */
function watchedClient(around: {
  readonly before?: (command: Command) => Promise<void>;
  readonly after?: (command: Command) => Promise<void>;
}): DynamoDBDocumentClient {
  return {
    send: async (command: Command) => {
      await around.before?.(command);
      const output = await local.documents.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
      await around.after?.(command);
      return output;
    },
  } as unknown as DynamoDBDocumentClient;
}

const writes = (command: Command) => !/Get|Query/.test(command.constructor.name);
const names = (command: Command, text: string) => JSON.stringify(command.input).includes(text);

/**
 * A table whose totals count two objects (300 and 20 bytes), counted by a worker that settled
 * them (markers written, nonces dropped), and the stores of two other processes on it.
 */
async function countedArchive(options: {
  readonly first?: Parameters<typeof watchedClient>[0];
  readonly second?: Parameters<typeof watchedClient>[0];
}) {
  const tableName = await local.createTable();
  const clock = manualClock();
  const store = (client: DynamoDBDocumentClient) =>
    new DynamoDbSyncStateStore({ client, tableName, now: clock.now });
  const worker = store(local.documents);
  for (const [key, size] of [
    [KEY, 300],
    ['2024/IMG_2.HEIC', 20],
  ] as const) {
    const claim = await worker.claimTransfer(key, `${key}/original`, 'worker', 60_000, size);
    await worker.countObject(key, size, 'lease' in claim ? claim.count : undefined);
  }
  await worker.flush();
  expect(await worker.getCounters()).toEqual({ objects: 2, bytes: 320 });
  return {
    tableName,
    worker,
    first: store(watchedClient(options.first ?? {})),
    second: store(watchedClient(options.second ?? {})),
  };
}

/** The attributes on the counters item that name applied nonces (none once every count is settled). */
async function appliedNonces(tableName: string): Promise<string[]> {
  const { Items } = await local.documents.send(new ScanCommand({ TableName: tableName }));
  const counters = Items?.find((item) => item['pk'] === 'counters');
  return Object.keys(counters ?? {}).filter((name) => name.startsWith('applied_'));
}

describe('DynamoDbSyncStateStore uncounts, two processes at once', () => {
  /**
   * The first process stops right after its first write to the object's key claim (its uncount
   * under way) until the second has read the claim; the second's first write to the counters item
   * waits until the first has finished and flushed (its nonce dropped).
   */
  function interleaved() {
    const firstWrote = signal();
    const secondRead = signal();
    const firstDone = signal();
    let firstHeld = false;
    let secondHeld = false;
    return {
      firstWrote,
      firstDone,
      first: {
        after: async (command: Command) => {
          if (firstHeld || !writes(command) || !names(command, CLAIM)) return;
          firstHeld = true;
          firstWrote.fire();
          await secondRead.promise;
        },
      },
      second: {
        before: async (command: Command) => {
          if (secondHeld || !writes(command) || !names(command, '"counters"')) return;
          secondHeld = true;
          await firstDone.promise;
        },
        after: async (command: Command) => {
          if (command.constructor.name === 'GetCommand' && names(command, CLAIM)) secondRead.fire();
        },
      },
    };
  }

  it('takes an object out of the totals once when two purges delete it at once', async () => {
    const gates = interleaved();
    const { tableName, first, second } = await countedArchive(gates);

    const purging = first.uncountObject(KEY);
    await gates.firstWrote.promise;
    const racing = second.uncountObject(KEY);
    await purging;
    await first.flush();
    gates.firstDone.fire();
    await racing;
    await second.flush();

    expect(await first.getCounters()).toEqual({ objects: 1, bytes: 20 });
    expect(await appliedNonces(tableName)).toEqual([]);
  }, 30_000);

  it('takes an object out once and counts it anew when a count of its key meets the purge', async () => {
    const gates = interleaved();
    const { tableName, first, second } = await countedArchive(gates);

    const purging = first.uncountObject(KEY);
    await gates.firstWrote.promise;
    const counting = second.countObject(KEY, 300);
    await purging;
    await first.flush();
    gates.firstDone.fire();
    await counting;
    await second.flush();

    expect(await first.getCounters()).toEqual({ objects: 2, bytes: 320 });
    expect(await appliedNonces(tableName)).toEqual([]);
  }, 30_000);

  it('finishes an uncount left under way on the claim once when two processes meet it at once', async () => {
    // An earlier version wrote `u:<nonce>:<size>` on the claim, then took the object out in a
    // second write; it died between the two.
    const secondWaiting = signal();
    const firstDone = signal();
    let held = false;
    const { tableName, worker, first, second } = await countedArchive({
      second: {
        before: async (command) => {
          if (held || !writes(command) || !names(command, '"counters"')) return;
          held = true;
          secondWaiting.fire();
          await firstDone.promise;
        },
      },
    });
    await local.documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.keyClaim(KEY),
        UpdateExpression: 'SET #count = :uncount',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':uncount': 'u:6d1c-left-under-way:300' },
      }),
    );

    const racing = second.uncountObject(KEY);
    await secondWaiting.promise;
    await first.uncountObject(KEY);
    await first.flush();
    firstDone.fire();
    await racing;
    await second.flush();
    await worker.countObject(KEY, 300); // a later count of the key (the object stored again)
    await worker.flush();

    expect(await first.getCounters()).toEqual({ objects: 2, bytes: 320 });
    expect(await appliedNonces(tableName)).toEqual([]);
  }, 30_000);

  it('leaves an uncount an earlier version applied but did not settle as it is, and settles it', async () => {
    // The earlier version took the object out under its nonce (kept on the counters item), then
    // died before removing the claim's count.
    const { tableName, first } = await countedArchive({});
    const nonce = '6d1c-applied-unsettled';
    await local.documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.keyClaim(KEY),
        UpdateExpression: 'SET #count = :uncount',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':uncount': `u:${nonce}:300` },
      }),
    );
    await local.documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.counters(),
        UpdateExpression: 'ADD objects :objects, bytes :bytes SET #nonce = :one',
        ExpressionAttributeNames: { '#nonce': `applied_${nonce}` },
        ExpressionAttributeValues: { ':objects': -1, ':bytes': -300, ':one': 1 },
      }),
    );

    await first.uncountObject(KEY);
    await first.uncountObject(KEY);
    await first.flush();

    expect(await first.getCounters()).toEqual({ objects: 1, bytes: 20 });
    expect(await appliedNonces(tableName)).toEqual([]);
    const { Items } = await local.documents.send(new ScanCommand({ TableName: tableName }));
    expect(Items?.find((item) => item['pk'] === CLAIM)?.['count']).toBeUndefined();
  }, 30_000);

  it('goes again when a racing transaction on the counters item cancels the uncount, and takes the object out in one write beyond its reads', async () => {
    const sent: string[] = [];
    let heldBack = false;
    const { first } = await countedArchive({
      first: {
        before: async (command) => {
          sent.push(command.constructor.name);
          if (heldBack || command.constructor.name !== 'TransactWriteItemsCommand' || !names(command, CLAIM))
            return;
          heldBack = true;
          // DynamoDB's answer while another worker's count transaction holds the counters item.
          throw Object.assign(new Error('Transaction cancelled'), {
            name: 'TransactionCanceledException',
            CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
          });
        },
      },
    });

    await first.uncountObject(KEY);
    await first.flush();

    expect(heldBack).toBe(true);
    // The object item (counts from before), the claim; its settled count's transaction (refused:
    // its marker exists); the uncount, cancelled once, then made; nothing at the flush.
    expect(sent).toEqual([
      'GetCommand',
      'GetCommand',
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
    ]);
    expect(await first.getCounters()).toEqual({ objects: 1, bytes: 20 });
  }, 30_000);
});
