import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import {
  describeSyncStateStoreContract,
  manualClock,
} from '#test/fakes/contracts/sync-state-store-contract.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

describeSyncStateStoreContract('DynamoDbSyncStateStore on dynalite', async (clock) => {
  const tableName = await local.createTable();
  return new DynamoDbSyncStateStore({ client: local.documents, tableName, now: clock.now });
});

describe('DynamoDbSyncStateStore', () => {
  it('records a check as one small item: its keys and lastCheckedAt, nothing else', async () => {
    const tableName = await local.createTable();
    const store = new DynamoDbSyncStateStore({ client: local.documents, tableName, now: manualClock().now });
    await store.recordCheck(1_765_000_000_000);
    const { Items } = await local.documents.send(new ScanCommand({ TableName: tableName }));
    expect(Items).toEqual([{ pk: 'check', sk: 'detect', lastCheckedAt: 1_765_000_000_000 }]);
    // About 40 bytes: one write request unit (on demand bills each write by the KB, rounded up).
    expect(JSON.stringify(Items?.[0]).length).toBeLessThan(1024);
  });

  it('keeps its state across store instances on the same table', async () => {
    const tableName = await local.createTable();
    const clock = manualClock();
    const first = new DynamoDbSyncStateStore({ client: local.documents, tableName, now: clock.now });
    await first.saveZone({ zone: { database: 'private', zoneName: 'PrimarySync' }, syncToken: 'tok' }, 0);
    const second = new DynamoDbSyncStateStore({ client: local.documents, tableName, now: clock.now });
    expect((await second.loadZone({ database: 'private', zoneName: 'PrimarySync' }))?.syncToken).toBe('tok');
  });
});

describe('DynamoDbSyncStateStore enumeration stamps', () => {
  it('walks a zone whose shards span several query pages, one query and one batch read a page', async () => {
    const tableName = await local.createTable();
    const zone = { database: 'private', zoneName: 'PrimarySync' } as const;
    const sent: string[] = [];
    const client = new Proxy(local.documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return (command: { constructor: { name: string } }) => {
          sent.push(command.constructor.name);
          return (target.send as (c: unknown) => Promise<unknown>)(command);
        };
      },
    });
    const store = new DynamoDbSyncStateStore({ client, tableName, unseenPageSize: 7 });
    const names = Array.from({ length: 300 }, (_, i) => `P${i}`);
    for (const name of names) {
      await store.putEntry(
        {
          zone,
          assetRecordName: name,
          masterRecordName: `M${name}`,
          assetChangeTag: 'a',
          status: 'archived',
          flags: { isFavorite: false, isHidden: false, isDeleted: false },
          albums: [],
          versions: [],
          deletions: [],
        },
        0,
      );
    }
    const gone = names.filter((_, i) => i % 50 === 7);
    sent.length = 0;
    await store.markSeen(
      zone,
      'gen',
      names.filter((n) => !gone.includes(n)),
    );
    expect(sent.filter((c) => c === 'BatchWriteCommand').length).toBe(Math.ceil((300 - gone.length) / 25));
    sent.length = 0;
    const unseen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.unseenAssets(zone, 'gen', cursor);
      unseen.push(...page.assets.map((a) => a.assetRecordName));
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(unseen.sort()).toEqual([...gone].sort());
    expect(pages).toBeGreaterThan(300 / 7);
    expect(sent.filter((c) => c === 'QueryCommand').length).toBe(pages);
    expect(sent.filter((c) => c === 'BatchGetCommand').length).toBeLessThanOrEqual(pages);
  });
});
