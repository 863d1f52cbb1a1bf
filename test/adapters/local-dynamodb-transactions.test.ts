/**
 * `TransactWriteItems` on the local DynamoDB (dynalite with our transactions in front), through
 * the real SDK clients, answering as DynamoDB does: all or nothing, cancellation reasons in
 * order, DynamoDB's validations, client tokens, isolation from concurrent writes and reads, and
 * durability on a LevelDB folder.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  type DynamoDBServiceException,
  QueryCommand as LowLevelQueryCommand,
  type TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '#local/servers/client-config.ts';
import { startDynamoDbServer } from '#local/servers/dynamodb-server.ts';
import { ensureStateTable } from '#local/servers/provision.ts';
import type { LocalServer } from '#local/servers/s3-server.ts';

interface Local {
  readonly server: LocalServer;
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
}

async function startLocal(directory?: string): Promise<Local> {
  const server = await startDynamoDbServer(directory === undefined ? {} : { directory });
  const client = new DynamoDBClient(localClientConfig(server.endpoint));
  return { server, client, documents: DynamoDBDocumentClient.from(client) };
}

async function stopLocal({ server, client }: Local): Promise<void> {
  client.destroy();
  await server.stop();
}

/** The error a promise rejects with (fails the test if it resolves). */
async function failure<T extends Error = DynamoDBServiceException>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (error) {
    return error as T;
  }
  throw new Error('expected the request to fail');
}

/**
 * Transfers move one unit from `a` to `b` (the sum stays 100) while plain writes count on both
 * items and readers query both at once. A write applied inside a transaction is lost (a count
 * short); a read inside one sees a sum other than 100.
 */
async function expectIsolated(on: Local, tableName: string): Promise<void> {
  const itemAt = async (sk: string) =>
    (
      await on.documents.send(
        new GetCommand({ TableName: tableName, Key: { pk: 'bank', sk }, ConsistentRead: true }),
      )
    ).Item;
  const transfers = 40;
  const touchesPerItem = 30;
  await on.documents.send(
    new PutCommand({ TableName: tableName, Item: { pk: 'bank', sk: 'a', n: 100, touches: 0 } }),
  );
  await on.documents.send(
    new PutCommand({ TableName: tableName, Item: { pk: 'bank', sk: 'b', n: 0, touches: 0 } }),
  );
  const transfer = () =>
    on.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName,
              Key: { pk: 'bank', sk: 'a' },
              UpdateExpression: 'SET n = n - :one',
              ConditionExpression: 'n >= :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
          {
            Update: {
              TableName: tableName,
              Key: { pk: 'bank', sk: 'b' },
              UpdateExpression: 'SET n = n + :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
        ],
      }),
    );
  const touch = (sk: string) =>
    on.documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: 'bank', sk },
        UpdateExpression: 'ADD touches :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  const sums: number[] = [];
  let writing = true;
  const read = async () => {
    while (writing) {
      const { Items = [] } = await on.documents.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'bank' },
          ConsistentRead: true,
        }),
      );
      sums.push(Items.reduce((sum, item) => sum + (item.n as number), 0));
    }
  };
  const readers = [read(), read()];
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < Math.max(transfers, touchesPerItem); i++) {
    if (i < transfers) writes.push(transfer());
    if (i < touchesPerItem) writes.push(touch('a'), touch('b'));
  }
  await Promise.all(writes).finally(() => {
    writing = false;
  });
  await Promise.all(readers);

  expect(await itemAt('a')).toEqual({
    pk: 'bank',
    sk: 'a',
    n: 100 - transfers,
    touches: touchesPerItem,
  });
  expect(await itemAt('b')).toEqual({ pk: 'bank', sk: 'b', n: transfers, touches: touchesPerItem });
  expect(sums.length).toBeGreaterThan(0);
  expect(sums.filter((sum) => sum !== 100)).toEqual([]);
}

let local: Local;
let table: string;

beforeAll(async () => {
  local = await startLocal();
});

afterAll(async () => {
  await stopLocal(local);
});

async function newTable(): Promise<string> {
  const name = `state-${randomUUID().slice(0, 8)}`;
  await ensureStateTable(local.client, name);
  return name;
}

const get = async (sk: string, pk = 'p') =>
  (await local.documents.send(new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true })))
    .Item;

const put = (item: Record<string, unknown>) =>
  local.documents.send(new PutCommand({ TableName: table, Item: item }));

describe('TransactWriteItems on the local DynamoDB', () => {
  beforeAll(async () => {
    table = await newTable();
  });

  it('applies every action: Put, Update with SET and ADD, Delete, and a passing ConditionCheck', async () => {
    await put({ pk: 'p', sk: 'counted', n: 1, note: 'old' });
    await put({ pk: 'p', sk: 'doomed' });
    await put({ pk: 'p', sk: 'checked', state: 'ready' });

    await local.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: { pk: 'p', sk: 'new', size: 5 },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: table,
              Key: { pk: 'p', sk: 'counted' },
              UpdateExpression: 'SET #note = :note ADD n :two',
              ConditionExpression: 'n = :one',
              ExpressionAttributeNames: { '#note': 'note' },
              ExpressionAttributeValues: { ':note': 'new', ':one': 1, ':two': 2 },
            },
          },
          {
            Delete: {
              TableName: table,
              Key: { pk: 'p', sk: 'doomed' },
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          {
            ConditionCheck: {
              TableName: table,
              Key: { pk: 'p', sk: 'checked' },
              ConditionExpression: '#s = :ready',
              ExpressionAttributeNames: { '#s': 'state' },
              ExpressionAttributeValues: { ':ready': 'ready' },
            },
          },
        ],
      }),
    );

    expect(await get('new')).toEqual({ pk: 'p', sk: 'new', size: 5 });
    expect(await get('counted')).toEqual({ pk: 'p', sk: 'counted', n: 3, note: 'new' });
    expect(await get('doomed')).toBeUndefined();
    expect(await get('checked')).toEqual({ pk: 'p', sk: 'checked', state: 'ready' });
  });

  it('applies nothing when one condition fails, with one reason per action in order (Item with ALL_OLD)', async () => {
    await put({ pk: 'p', sk: 'claim-1', owner: 'other' });
    await put({ pk: 'p', sk: 'claim-2', owner: 'other' });
    await put({ pk: 'p', sk: 'kept', n: 1 });

    const error = await failure<TransactionCanceledException>(
      local.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { pk: { S: 'p' }, sk: { S: 'fresh' } } } },
            {
              Put: {
                TableName: table,
                Item: { pk: { S: 'p' }, sk: { S: 'claim-1' }, owner: { S: 'me' } },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Update: {
                TableName: table,
                Key: { pk: { S: 'p' }, sk: { S: 'kept' } },
                UpdateExpression: 'ADD n :one',
                ExpressionAttributeValues: { ':one': { N: '1' } },
              },
            },
            {
              Put: {
                TableName: table,
                Item: { pk: { S: 'p' }, sk: { S: 'claim-2' }, owner: { S: 'me' } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: table,
                Item: { pk: { S: 'p' }, sk: { S: 'missing-old' } },
                ConditionExpression: 'attribute_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      ),
    );

    expect(error.name).toBe('TransactionCanceledException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons ' +
        '[None, ConditionalCheckFailed, None, ConditionalCheckFailed, ConditionalCheckFailed]',
    );
    const failed = { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };
    expect(error.CancellationReasons).toEqual([
      { Code: 'None' },
      { ...failed, Item: { pk: { S: 'p' }, sk: { S: 'claim-1' }, owner: { S: 'other' } } },
      { Code: 'None' },
      failed,
      failed,
    ]);
    expect(await get('fresh')).toBeUndefined();
    expect(await get('claim-1')).toEqual({ pk: 'p', sk: 'claim-1', owner: 'other' });
    expect(await get('kept')).toEqual({ pk: 'p', sk: 'kept', n: 1 });
  });

  it('cancels on a failed ConditionCheck, and with ValidationError on what fails on the item or on the table schema', async () => {
    await put({ pk: 'p', sk: 'gate', open: false });
    await put({ pk: 'p', sk: 'text', n: 'not a number' });
    const send = (items: TransactWriteItem[]) =>
      failure<TransactionCanceledException>(
        local.client.send(new TransactWriteItemsCommand({ TransactItems: items })),
      );
    const newItem = { Put: { TableName: table, Item: { pk: { S: 'p' }, sk: { S: 'behind-gate' } } } };

    const closed = await send([
      newItem,
      {
        ConditionCheck: {
          TableName: table,
          Key: { pk: { S: 'p' }, sk: { S: 'gate' } },
          ConditionExpression: '#open = :yes',
          ExpressionAttributeNames: { '#open': 'open' },
          ExpressionAttributeValues: { ':yes': { BOOL: true } },
        },
      },
    ]);
    expect(closed.CancellationReasons?.map(({ Code }) => Code)).toEqual(['None', 'ConditionalCheckFailed']);

    const wrongType = await send([
      newItem,
      {
        Update: {
          TableName: table,
          Key: { pk: { S: 'p' }, sk: { S: 'text' } },
          UpdateExpression: 'SET n = n + :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        },
      },
    ]);
    expect(wrongType.name).toBe('TransactionCanceledException');
    expect(wrongType.CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ValidationError', Message: 'An operand in the update expression has an incorrect data type' },
    ]);

    // Checks that need the table's schema are made on the item, as in DynamoDB: a cancellation.
    const misfits = await send([
      newItem,
      { Put: { TableName: table, Item: { pk: { N: '5' }, sk: { S: 'x' } } } },
      { Delete: { TableName: table, Key: { pk: { S: 'p' }, sk: { N: '1' } } } },
      {
        Update: {
          TableName: table,
          Key: { pk: { S: 'p' }, sk: { S: 'gate' } },
          UpdateExpression: 'SET sk = :other',
          ExpressionAttributeValues: { ':other': { S: 'moved' } },
        },
      },
    ]);
    expect(misfits.CancellationReasons).toEqual([
      { Code: 'None' },
      {
        Code: 'ValidationError',
        Message: 'One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N',
      },
      { Code: 'ValidationError', Message: 'The provided key element does not match the schema' },
      {
        Code: 'ValidationError',
        Message:
          'One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key',
      },
    ]);
    expect(await get('behind-gate')).toBeUndefined();
    expect(await get('gate')).toEqual({ pk: 'p', sk: 'gate', open: false });
  });

  it('refuses what DynamoDB refuses before applying anything', async () => {
    const item = (sk: string): TransactWriteItem => ({
      Put: { TableName: table, Item: { pk: { S: 'limits' }, sk: { S: sk } } },
    });
    const send = (items: TransactWriteItem[]) =>
      failure(local.client.send(new TransactWriteItemsCommand({ TransactItems: items })));

    const tooMany = await send(Array.from({ length: 101 }, (_, i) => item(`i${i}`)));
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toMatch(
      /^1 validation error detected: Value '.*' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100$/,
    );
    const none = await send([]);
    expect(none.name).toBe('ValidationException');
    expect(none.message).toMatch(
      /at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1$/,
    );

    const twice = await send([
      item('same'),
      { Delete: { TableName: table, Key: { pk: { S: 'limits' }, sk: { S: 'same' } } } },
    ]);
    expect(twice.name).toBe('ValidationException');
    expect(twice.message).toBe('Transaction request cannot include multiple operations on one item');

    const missing = await send([
      item('a'),
      { Put: { TableName: 'no-such-table', Item: { pk: { S: 'x' } } } },
    ]);
    expect(missing.name).toBe('ResourceNotFoundException');

    const emptyKey = await send([
      item('b'),
      { Delete: { TableName: table, Key: { pk: { S: 'limits' }, sk: { S: '' } } } },
    ]);
    expect(emptyKey.name).toBe('ValidationException');
    expect(emptyKey.message).toBe(
      'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: sk',
    );

    const badExpression = await send([
      item('c'),
      {
        Update: {
          TableName: table,
          Key: { pk: { S: 'limits' }, sk: { S: 'd' } },
          UpdateExpression: 'SET',
        },
      },
    ]);
    expect(badExpression.name).toBe('ValidationException');
    expect(badExpression.message).toMatch(/^Invalid UpdateExpression: Syntax error/);

    const tooLarge = await send([
      item('e'),
      {
        Put: {
          TableName: table,
          Item: { pk: { S: 'limits' }, sk: { S: 'f' }, blob: { S: 'x'.repeat(410_000) } },
        },
      },
    ]);
    expect(tooLarge.name).toBe('ValidationException');
    expect(tooLarge.message).toBe('Item size has exceeded the maximum allowed size');

    const unknownCapacity = await failure(
      local.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [item('h')],
          ReturnConsumedCapacity: 'BOGUS' as 'TOTAL',
        }),
      ),
    );
    expect(unknownCapacity.message).toBe(
      "1 validation error detected: Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
    );

    const noAction = await send([item('g'), {}]);
    expect(noAction.name).toBe('ValidationException');
    expect(noAction.message).toBe('TransactItems can only contain one of Check, Put, Update or Delete');

    const query = await local.documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'limits' },
      }),
    );
    expect(query.Items).toEqual([]);
  });

  it("answers on the wire as DynamoDB does (dynalite's headers, the cancellation's JSON)", async () => {
    await put({ pk: 'p', sk: 'wire', owner: 'other' });
    const post = (body: string) =>
      fetch(local.server.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.TransactWriteItems',
          'x-amz-date': '20260101T000000Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        },
        body,
      });
    const cancelled = await post(
      JSON.stringify({
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: { pk: { S: 'p' }, sk: { S: 'wire' } },
              ConditionExpression: 'attribute_not_exists(pk)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
      }),
    );
    const text = await cancelled.text();
    expect(cancelled.status).toBe(400);
    expect(cancelled.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(cancelled.headers.get('x-amzn-requestid')).toMatch(/^[A-Z0-9]{52}$/);
    expect(cancelled.headers.get('x-amz-crc32')).toMatch(/^\d+$/);
    expect(JSON.parse(text)).toEqual({
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      CancellationReasons: [
        {
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          Item: { pk: { S: 'p' }, sk: { S: 'wire' }, owner: { S: 'other' } },
        },
      ],
      Message:
        'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]',
    });

    for (const body of ['null', '[]', '"text"', '{']) {
      const refused = await post(body);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ __type: 'com.amazon.coral.service#SerializationException' });
    }
  });

  it('applies a request repeated with its client token once, and refuses the token on another request', async () => {
    await put({ pk: 'p', sk: 'idempotent', n: 0 });
    const add = (token: string, amount: string) =>
      new TransactWriteItemsCommand({
        ClientRequestToken: token,
        TransactItems: [
          {
            Update: {
              TableName: table,
              Key: { pk: { S: 'p' }, sk: { S: 'idempotent' } },
              UpdateExpression: 'ADD n :amount',
              ExpressionAttributeValues: { ':amount': { N: amount } },
            },
          },
        ],
      });
    const token = randomUUID();
    await local.client.send(add(token, '1'));
    await local.client.send(add(token, '1'));
    expect(await get('idempotent')).toEqual({ pk: 'p', sk: 'idempotent', n: 1 });

    const mismatch = await failure(local.client.send(add(token, '2')));
    expect(mismatch.name).toBe('IdempotentParameterMismatchException');
    expect(await get('idempotent')).toEqual({ pk: 'p', sk: 'idempotent', n: 1 });

    await local.client.send(add(randomUUID(), '1'));
    expect(await get('idempotent')).toEqual({ pk: 'p', sk: 'idempotent', n: 2 });
  });

  it('keeps secondary indexes in step with the items it writes', async () => {
    const indexed = `indexed-${randomUUID().slice(0, 8)}`;
    await local.client.send(
      new CreateTableCommand({
        TableName: indexed,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'id', AttributeType: 'S' },
          { AttributeName: 'owner', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byOwner',
            KeySchema: [{ AttributeName: 'owner', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    const byOwner = async (owner: string) =>
      (
        await local.client.send(
          new LowLevelQueryCommand({
            TableName: indexed,
            IndexName: 'byOwner',
            KeyConditionExpression: '#o = :o',
            ExpressionAttributeNames: { '#o': 'owner' },
            ExpressionAttributeValues: { ':o': { S: owner } },
          }),
        )
      ).Items?.map((item) => item.id?.S);

    await local.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: indexed, Item: { id: 'a', owner: 'ann' } } },
          { Put: { TableName: indexed, Item: { id: 'b', owner: 'ann' } } },
          { Put: { TableName: table, Item: { pk: 'p', sk: 'other-table' } } },
        ],
      }),
    );
    expect((await byOwner('ann'))?.sort()).toEqual(['a', 'b']);

    await local.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: indexed,
              Key: { id: 'a' },
              UpdateExpression: 'SET #o = :bob',
              ExpressionAttributeNames: { '#o': 'owner' },
              ExpressionAttributeValues: { ':bob': 'bob' },
            },
          },
          { Delete: { TableName: indexed, Key: { id: 'b' } } },
        ],
      }),
    );
    expect(await byOwner('ann')).toEqual([]);
    expect(await byOwner('bob')).toEqual(['a']);
  });

  it('lets no concurrent write or read fall inside a transaction', async () => {
    await expectIsolated(local, table);
  });
});

describe('TransactWriteItems on a local DynamoDB folder', () => {
  it('lets no concurrent write or read fall inside a transaction on LevelDB either', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'icloud-s3-transactions-'));
    const onFolder = await startLocal(directory);
    try {
      await ensureStateTable(onFolder.client, 'state');
      await expectIsolated(onFolder, 'state');
    } finally {
      await stopLocal(onFolder);
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('keeps what a transaction wrote, and nothing of a cancelled one, across a restart', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'icloud-s3-transactions-'));
    try {
      const first = await startLocal(directory);
      try {
        await ensureStateTable(first.client, 'state');
        await first.documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: 'state', Item: { pk: 'p', sk: 'one', v: 1 } } },
              { Put: { TableName: 'state', Item: { pk: 'p', sk: 'two', v: 2 } } },
            ],
          }),
        );
        const cancelled = await failure(
          first.documents.send(
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: 'state', Item: { pk: 'p', sk: 'three', v: 3 } } },
                {
                  Put: {
                    TableName: 'state',
                    Item: { pk: 'p', sk: 'one', v: 9 },
                    ConditionExpression: 'attribute_not_exists(pk)',
                  },
                },
              ],
            }),
          ),
        );
        expect(cancelled.name).toBe('TransactionCanceledException');
      } finally {
        await stopLocal(first);
      }

      const second = await startLocal(directory);
      try {
        const { Items } = await second.documents.send(
          new QueryCommand({
            TableName: 'state',
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': 'p' },
          }),
        );
        expect(Items).toEqual([
          { pk: 'p', sk: 'one', v: 1 },
          { pk: 'p', sk: 'two', v: 2 },
        ]);
      } finally {
        await stopLocal(second);
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
