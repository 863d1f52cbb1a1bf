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
