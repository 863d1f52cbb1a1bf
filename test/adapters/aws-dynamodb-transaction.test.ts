/**
 * The state table's transactions at the SDK edge: what DynamoDB says when it cancels one
 * (`TransactionCanceledException`, a reason per action) becomes the port's `refused` positions,
 * and a fresh claim in a batch writes exactly the item a fresh `claimTransfer` writes.
 */
import {
  DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbArchiveStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamodb = mockClient(documents);
afterEach(() => dynamodb.reset());

const NOW = 1_765_000_000_000;
const store = new DynamoDbArchiveStateStore({ client: documents, tableName: 'state', now: () => NOW });

function entry(assetRecordName: string): ManifestEntryInput {
  return {
    zone: { database: 'private', zoneName: 'PrimarySync' },
    assetRecordName,
    masterRecordName: `M-${assetRecordName}`,
    assetChangeTag: 'a1',
    status: 'archived',
    flags: { isFavorite: false, isHidden: false, isDeleted: false },
    albums: [],
    versions: [],
    deletions: [],
  };
}

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

/** The Puts a transaction sent, their items and values unmarshalled (as the table stores them). */
function puts(input: TransactWriteItemsCommand['input'] | undefined) {
  return (input?.TransactItems ?? []).map(({ Put }) => {
    const { Item, ExpressionAttributeValues, ...rest } = Put ?? {};
    return {
      ...rest,
      Item: unmarshall(Item ?? {}),
      ...(ExpressionAttributeValues === undefined
        ? {}
        : { ExpressionAttributeValues: unmarshall(ExpressionAttributeValues) }),
    };
  });
}

const writes = [
  { entry: entry('A1'), expectedRevision: 0 },
  { entry: entry('A2'), expectedRevision: 3 },
  { entry: entry('A3'), expectedRevision: 0 },
];

describe('DynamoDbArchiveStateStore transactions at the SDK edge', () => {
  it('writes a batch of entries in one TransactWriteItems, each under its revision condition', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});

    const outcome = await store.putEntries(writes);

    expect(outcome).toMatchObject({
      written: [
        { assetRecordName: 'A1', revision: 1, updatedAt: NOW },
        { assetRecordName: 'A2', revision: 4 },
        { assetRecordName: 'A3', revision: 1 },
      ],
    });
    const sent = dynamodb.commandCalls(TransactWriteItemsCommand);
    expect(sent).toHaveLength(1);
    const actions = puts(sent[0]?.args[0].input);
    expect(actions.map((put) => put.ConditionExpression)).toEqual([
      'attribute_not_exists(pk)',
      'revision = :expected',
      'attribute_not_exists(pk)',
    ]);
    expect(actions[1]?.ExpressionAttributeValues).toEqual({ ':expected': 3 });
    expect(actions[1]?.Item).toMatchObject({ sk: 'private/_/PrimarySync#A2', revision: 4 });
  });

  it('names the actions whose condition failed when DynamoDB cancels the transaction', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled('None', 'ConditionalCheckFailed', 'None'));

    expect(await store.putEntries(writes)).toEqual({ refused: [1] });
  });

  it('names none when only a racing transaction or throttling cancelled it: all may go again', async () => {
    dynamodb
      .on(TransactWriteItemsCommand)
      .rejects(cancelled('None', 'TransactionConflict', 'ThrottlingError'));

    expect(await store.putEntries(writes)).toEqual({ refused: [] });
  });

  it('throws what is not a cancellation', async () => {
    dynamodb
      .on(TransactWriteItemsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(store.putEntries(writes)).rejects.toThrow('Rate exceeded');
  });

  it('claims fresh keys as a fresh claimTransfer would: owner, lease, started count, only where no claim is, each object’s key recorded beside', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});

    const outcome = await store.claimFreshKeys([
      { key: '2026/IMG_1.JPG', owner: 'M1/original', holder: 'h1', leaseMs: 60_000, size: 2_000 },
      { key: '2026/IMG_2.JPG', owner: 'M2/original', holder: 'h2', leaseMs: 60_000 },
    ]);

    const actions = puts(dynamodb.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input);
    expect(actions).toEqual([
      {
        TableName: 'state',
        Item: {
          pk: 'key#2026/img_1.jpg',
          sk: 'key',
          owner: 'M1/original',
          key: '2026/IMG_1.JPG',
          leaseHolder: 'h1',
          leaseExpiresAt: NOW + 60_000,
          count: expect.stringMatching(/^p:[0-9a-f-]{36}:2000$/),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
      {
        TableName: 'state',
        Item: {
          pk: 'key#2026/img_2.jpg',
          sk: 'key',
          owner: 'M2/original',
          key: '2026/IMG_2.JPG',
          leaseHolder: 'h2',
          leaseExpiresAt: NOW + 60_000,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
      // After the claims, each object's recorded key: unconditional, so only a claim refuses.
      { TableName: 'state', Item: { pk: 'objectKey#M1/original', sk: 'key', key: '2026/IMG_1.JPG' } },
      { TableName: 'state', Item: { pk: 'objectKey#M2/original', sk: 'key', key: '2026/IMG_2.JPG' } },
    ]);
    const count = actions[0]?.Item?.['count'];
    expect(outcome).toEqual({
      written: [
        {
          claimed: true,
          fresh: true,
          lease: { name: '2026/IMG_1.JPG', owner: 'h1', expiresAt: NOW + 60_000 },
          count: `mine:${count}`,
        },
        {
          claimed: true,
          fresh: true,
          lease: { name: '2026/IMG_2.JPG', owner: 'h2', expiresAt: NOW + 60_000 },
        },
      ],
    });
  });

  it('names the keys claimed already when DynamoDB cancels a batch of claims', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));

    expect(
      await store.claimFreshKeys([
        { key: 'a.jpg', owner: 'M1', holder: 'h', leaseMs: 60_000 },
        { key: 'b.jpg', owner: 'M2', holder: 'h', leaseMs: 60_000 },
      ]),
    ).toEqual({ refused: [0] });
  });
});
