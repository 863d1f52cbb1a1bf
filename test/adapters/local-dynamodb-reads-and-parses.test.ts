/**
 * Two savings of the local DynamoDB's CPU per request (dynalite-sync-reads.ts,
 * dynalite-expression-cache.ts), and that DynamoDB's answers stay the same with them: reads of
 * LevelDB taken synchronously, and expression parses kept.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '#local/servers/client-config.ts';
import type { Callback, DynaliteStore } from '#local/servers/dynalite-modules.ts';
import { readSynchronously } from '#local/servers/dynalite-sync-reads.ts';
import { startDynamoDbServer } from '#local/servers/dynamodb-server.ts';
import { ensureStateTable } from '#local/servers/provision.ts';
import type { LocalServer } from '#local/servers/s3-server.ts';

const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));

interface Parser {
  parse: (...args: unknown[]) => unknown;
}
// Counted before any server of this file (its own process) wraps the parsers in the cache, so
// these counts are the parses actually done.
const parses = { condition: 0 };
const conditionParser = fromDynalite('./db/conditionParser') as Parser;
const parseCondition = conditionParser.parse;
conditionParser.parse = (...args) => {
  parses.condition++;
  return parseCondition.apply(conditionParser, args);
};

async function failure<T extends Error>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (error) {
    return error as T;
  }
  throw new Error('expected the request to fail');
}

describe('reads of the local DynamoDB on LevelDB', () => {
  it('go to LevelDB synchronously, not through the thread pool, and answer as before', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-local-reads-'));
    const { ClassicLevel } = fromDynalite('classic-level') as {
      ClassicLevel: { prototype: Record<'_get' | '_getSync', (...args: unknown[]) => unknown> };
    };
    const counts = { _get: 0, _getSync: 0 };
    const originals = { _get: ClassicLevel.prototype._get, _getSync: ClassicLevel.prototype._getSync };
    for (const name of ['_get', '_getSync'] as const) {
      ClassicLevel.prototype[name] = function counted(this: unknown, ...args: unknown[]) {
        counts[name]++;
        return originals[name].apply(this, args);
      };
    }
    const server = await startDynamoDbServer({ directory: path.join(dataDir, 'dynamodb') });
    const client = new DynamoDBClient(localClientConfig(server.endpoint));
    const documents = DynamoDBDocumentClient.from(client);
    try {
      await ensureStateTable(client, 'state');
      for (let i = 0; i < 10; i++)
        await documents.send(new PutCommand({ TableName: 'state', Item: { pk: `p${i}`, sk: 's', n: i } }));
      counts._get = 0;
      counts._getSync = 0;

      const { Item } = await documents.send(
        new GetCommand({ TableName: 'state', Key: { pk: 'p3', sk: 's' } }),
      );
      expect(Item).toEqual({ pk: 'p3', sk: 's', n: 3 });
      const missing = await documents.send(
        new GetCommand({ TableName: 'state', Key: { pk: 'none', sk: 's' } }),
      );
      expect(missing.Item).toBeUndefined();
      const batch = await documents.send(
        new BatchGetCommand({
          RequestItems: {
            state: { Keys: [...Array(10).keys(), 99].map((i) => ({ pk: `p${i}`, sk: 's' })) },
          },
        }),
      );
      expect(batch.Responses?.['state']?.map(({ n }) => n).sort()).toEqual([...Array(10).keys()]);
      // A write judges its condition on the item it reads: the latest one.
      await documents.send(
        new UpdateCommand({
          TableName: 'state',
          Key: { pk: 'p1', sk: 's' },
          UpdateExpression: 'SET n = n + :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
      const stale = await failure<ConditionalCheckFailedException>(
        documents.send(
          new PutCommand({
            TableName: 'state',
            Item: { pk: 'p1', sk: 's', n: 0 },
            ConditionExpression: 'n = :old',
            ExpressionAttributeValues: { ':old': 1 },
          }),
        ),
      );
      expect(stale.name).toBe('ConditionalCheckFailedException');

      expect(counts._get).toBe(0);
      expect(counts._getSync).toBeGreaterThanOrEqual(2 + 11 + 2);
    } finally {
      Object.assign(ClassicLevel.prototype, originals);
      client.destroy();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('hand their answer over after the caller returns, and fail as before once the store is closed', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-local-reads-'));
    const { create } = fromDynalite('./db') as { create: (options: unknown) => DynaliteStore };
    const store = create({ path: dataDir });
    readSynchronously(store);
    const db = store.db as unknown as {
      put(key: string, value: unknown, callback: Callback): void;
      get(key: string, callback: Callback): void;
      close(callback: Callback): void;
    };
    const call = (run: (callback: Callback) => void) =>
      new Promise<{ error: unknown; value: unknown; synchronous: boolean }>((resolve) => {
        let returned = false;
        run((error, value) => resolve({ error, value, synchronous: !returned }));
        returned = true;
      });
    try {
      // The first read may come while LevelDB is still opening: it waits for it, as before.
      expect(await call((done) => db.get('item-t~early', done))).toEqual({
        error: null,
        value: undefined,
        synchronous: false,
      });
      await call((done) => db.put('item-t~k', { a: { S: 'x' } }, done));
      expect(await call((done) => db.get('item-t~k', done))).toEqual({
        error: null,
        value: { a: { S: 'x' } },
        synchronous: false,
      });
      expect(await call((done) => db.get('item-t~none', done))).toEqual({
        error: null,
        value: undefined,
        synchronous: false,
      });
      await call((done) => db.close(done));
      const closed = await call((done) => db.get('item-t~k', done));
      expect(closed.synchronous).toBe(false);
      expect(closed.error).toBeInstanceOf(Error);
      expect((closed.error as Error).message).toBe('Database is closed');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('expressions on the local DynamoDB', () => {
  let server: LocalServer;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;

  beforeAll(async () => {
    server = await startDynamoDbServer();
    client = new DynamoDBClient(localClientConfig(server.endpoint));
    documents = DynamoDBDocumentClient.from(client);
    await ensureStateTable(client, 'state');
  });

  afterAll(async () => {
    client.destroy();
    await server.stop();
  });

  const putNew = (pk: string) =>
    documents.send(
      new PutCommand({
        TableName: 'state',
        Item: { pk, sk: 's' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );

  it('are parsed once for the same expression, names and values, and judged on each item', async () => {
    await putNew('first');
    const before = parses.condition;
    for (let i = 0; i < 5; i++) await putNew(`new-${i}`);
    expect(parses.condition - before).toBe(0);
    const again = await failure<ConditionalCheckFailedException>(putNew('new-2'));
    expect(again.name).toBe('ConditionalCheckFailedException');
  });

  it('apply a kept update afresh to each item (dynalite changes the parse it applies)', async () => {
    const count = () =>
      documents.send(
        new UpdateCommand({
          TableName: 'state',
          Key: { pk: 'counter', sk: 's' },
          UpdateExpression: 'SET #n = if_not_exists(#n, :zero) + :one',
          ExpressionAttributeNames: { '#n': 'n' },
          ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
    const results: unknown[] = [];
    for (let i = 0; i < 3; i++) results.push((await count()).Attributes?.['n']);
    expect(results).toEqual([1, 2, 3]);
  });

  it('count the names and values a kept parse uses, and still refuse one left unused', async () => {
    const update = (values: Record<string, unknown>) =>
      documents.send(
        new UpdateCommand({
          TableName: 'state',
          Key: { pk: 'shared', sk: 's' },
          UpdateExpression: 'SET #a = :v',
          ConditionExpression: 'attribute_not_exists(#b) OR #b <> :v',
          ExpressionAttributeNames: { '#a': 'a', '#b': 'b' },
          ExpressionAttributeValues: values,
        }),
      );
    await update({ ':v': 'x' });
    await update({ ':v': 'x' });
    const unused = await failure<Error>(update({ ':v': 'x', ':extra': 'y' }));
    expect(unused.name).toBe('ValidationException');
    expect(unused.message).toMatch(/unused in expressions: keys: \{:extra\}/);
    const { Item } = await documents.send(
      new GetCommand({ TableName: 'state', Key: { pk: 'shared', sk: 's' } }),
    );
    expect(Item).toEqual({ pk: 'shared', sk: 's', a: 'x' });
  });

  it('refuse a malformed or misused expression each time with the same message', async () => {
    const refusals = async (ConditionExpression: string) => {
      const messages: string[] = [];
      for (let i = 0; i < 2; i++) {
        const error = await failure<Error>(
          documents.send(
            new PutCommand({
              TableName: 'state',
              Item: { pk: 'bad', sk: 's' },
              ConditionExpression,
              ExpressionAttributeValues: { ':v': 'x' },
            }),
          ),
        );
        expect(error.name).toBe('ValidationException');
        messages.push(error.message);
      }
      expect(messages[1]).toBe(messages[0]);
      return messages[0];
    };
    expect(await refusals('pk = = :v')).toMatch(/^Invalid ConditionExpression: Syntax error/);
    // The parser answers this one with its message rather than throwing.
    expect(await refusals('unknown_function(pk, :v)')).toMatch(
      /^Invalid ConditionExpression: Invalid function name/,
    );
    const { Item } = await documents.send(
      new GetCommand({ TableName: 'state', Key: { pk: 'bad', sk: 's' } }),
    );
    expect(Item).toBeUndefined();
  });
});
