import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
  it('keeps its state across store instances on the same table', async () => {
    const tableName = await local.createTable();
    const clock = manualClock();
    const first = new DynamoDbSyncStateStore({ client: local.documents, tableName, now: clock.now });
    await first.saveZone({ zone: { database: 'private', zoneName: 'PrimarySync' }, syncToken: 'tok' }, 0);
    const second = new DynamoDbSyncStateStore({ client: local.documents, tableName, now: clock.now });
    expect((await second.loadZone({ database: 'private', zoneName: 'PrimarySync' }))?.syncToken).toBe('tok');
  });
});

/** A client whose process dies at its `dieAt`-th request: before it is sent, or after it landed. */
function dyingClient(real: DynamoDBDocumentClient, dieAt: number, when: 'before' | 'after') {
  let sent = 0;
  return {
    send: async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
      sent += 1;
      if (sent === dieAt) {
        if (when === 'after') await real.send(command);
        throw new Error(`died ${when} request ${dieAt}`);
      }
      return real.send(command);
    },
  } as unknown as DynamoDBDocumentClient;
}

describe('DynamoDbSyncStateStore archive counters after a crash', () => {
  const crashes = [1, 2, 3, 4, 5].flatMap((dieAt) =>
    (['before', 'after'] as const).map((when) => ({ dieAt, when })),
  );

  it.each(crashes)(
    'count: a retry after dying $when request $dieAt counts the object exactly once',
    async ({ dieAt, when }) => {
      const tableName = await local.createTable();
      const dying = new DynamoDbSyncStateStore({
        client: dyingClient(local.documents, dieAt, when),
        tableName,
      });
      const healthy = new DynamoDbSyncStateStore({ client: local.documents, tableName });

      await dying.countObject('2024/IMG_1.HEIC', 300).catch(() => undefined);
      await healthy.countObject('2024/IMG_1.HEIC', 300);
      await healthy.countObject('2024/IMG_1.HEIC', 300);

      expect(await healthy.getCounters()).toEqual({ objects: 1, bytes: 300 });
    },
  );

  it.each(crashes)(
    'uncount: a retry after dying $when request $dieAt uncounts the object exactly once',
    async ({ dieAt, when }) => {
      const tableName = await local.createTable();
      const dying = new DynamoDbSyncStateStore({
        client: dyingClient(local.documents, dieAt, when),
        tableName,
      });
      const healthy = new DynamoDbSyncStateStore({ client: local.documents, tableName });
      await healthy.countObject('2024/IMG_1.HEIC', 300);
      await healthy.countObject('2024/IMG_2.HEIC', 20);

      await dying.uncountObject('2024/IMG_1.HEIC').catch(() => undefined);
      await healthy.uncountObject('2024/IMG_1.HEIC');
      await healthy.uncountObject('2024/IMG_1.HEIC');

      expect(await healthy.getCounters()).toEqual({ objects: 1, bytes: 20 });
    },
  );
});
