import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAlbumStore } from '#adapters/aws/dynamodb-album-store.ts';
import { DynamoDbDetectionStateStore } from '#adapters/aws/dynamodb-detection-state-store.ts';
import {
  DynamoDbArchiveStateStore,
  DynamoDbSyncStateStore,
} from '#adapters/aws/dynamodb-sync-state-store.ts';
import { describeAlbumStoreContract } from '#test/fakes/contracts/album-store-contract.ts';
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

describeAlbumStoreContract('DynamoDbAlbumStore on dynalite', async () => {
  const tableName = await local.createTable();
  return new DynamoDbAlbumStore({ client: local.documents, tableName });
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

  it("is the detector's part and the workers' part on one table: each alone sees what the other wrote", async () => {
    const tableName = await local.createTable();
    const clock = manualClock();
    const zone = { database: 'private', zoneName: 'PrimarySync' } as const;
    const detection = new DynamoDbDetectionStateStore({ client: local.documents, tableName, now: clock.now });
    const archive = new DynamoDbArchiveStateStore({ client: local.documents, tableName, now: clock.now });
    const whole = new DynamoDbSyncStateStore({ client: local.documents, tableName, now: clock.now });

    await detection.saveZone({ zone, syncToken: 'tok' }, 0);
    const claim = await archive.claimTransfer('2024/IMG_1.JPG', 'A1', 'worker', 60_000, 10);
    expect(claim).toMatchObject({ claimed: true, fresh: true });
    await archive.putEntry(
      {
        zone,
        assetRecordName: 'A1',
        masterRecordName: 'M1',
        assetChangeTag: 'a',
        status: 'archived',
        flags: { isFavorite: false, isHidden: false, isDeleted: false },
        albums: [],
        versions: [],
        deletions: [],
      },
      0,
    );

    expect((await whole.loadZone(zone))?.syncToken).toBe('tok');
    expect(await whole.claimKey('2024/img_1.jpg', 'A2')).toEqual({ claimed: false, owner: 'A1' });
    expect((await detection.getEntry({ zone, assetRecordName: 'A1' }))?.status).toBe('archived');
    const unseen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await detection.unseenAssets(zone, 'gen', cursor);
      unseen.push(...page.assets.map((asset) => asset.assetRecordName));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(unseen).toEqual(['A1']);
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

describe('DynamoDbSyncStateStore counts kept on key claims, after a crash', () => {
  const crashes = [1, 2, 3, 4, 5].flatMap((dieAt) =>
    (['before', 'after'] as const).map((when) => ({ dieAt, when })),
  );
  const KEY = '2024/IMG_1.HEIC';
  /** Claims the key with the object's size, as a worker does, and counts it once stored. */
  const claimAndCount = async (store: DynamoDbSyncStateStore, holder: string) => {
    const claim = await store.claimTransfer(KEY, 'M1/original', holder, 60_000, 300);
    await store.countObject(KEY, 300, 'lease' in claim ? claim.count : undefined);
  };

  it.each(crashes)(
    'count: a retry after dying $when request $dieAt counts the object exactly once',
    async ({ dieAt, when }) => {
      const tableName = await local.createTable();
      const dying = new DynamoDbSyncStateStore({
        client: dyingClient(local.documents, dieAt, when),
        tableName,
      });
      const healthy = new DynamoDbSyncStateStore({ client: local.documents, tableName });

      await claimAndCount(dying, 'worker-a').catch(() => undefined);
      await claimAndCount(healthy, 'worker-b');
      await healthy.countObject(KEY, 300);
      await healthy.flush();

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
      await claimAndCount(healthy, 'worker-a');
      const other = await healthy.claimTransfer('2024/IMG_2.HEIC', 'M2/original', 'worker-a', 60_000, 20);
      await healthy.countObject('2024/IMG_2.HEIC', 20, 'lease' in other ? other.count : undefined);

      await dying.uncountObject(KEY).catch(() => undefined);
      await healthy.uncountObject(KEY);
      await healthy.uncountObject(KEY);

      expect(await healthy.getCounters()).toEqual({ objects: 1, bytes: 20 });
    },
  );

  it.each(crashes)(
    'count then flush: a retry after dying $when request $dieAt counts the object exactly once',
    async ({ dieAt, when }) => {
      const tableName = await local.createTable();
      const dying = new DynamoDbSyncStateStore({
        client: dyingClient(local.documents, dieAt, when),
        tableName,
      });
      const healthy = new DynamoDbSyncStateStore({ client: local.documents, tableName });

      await claimAndCount(dying, 'worker-a')
        .then(() => dying.flush())
        .catch(() => undefined);
      await claimAndCount(healthy, 'worker-b');
      await healthy.flush();
      await healthy.countObject(KEY, 300);
      await new DynamoDbSyncStateStore({ client: local.documents, tableName }).countObject(KEY, 300);

      expect(await healthy.getCounters()).toEqual({ objects: 1, bytes: 300 });
    },
  );

  it('counts a new object with one write beyond its claim, a repeat with none, and settles it in a batch at the flush', async () => {
    const tableName = await local.createTable();
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
    const store = new DynamoDbSyncStateStore({ client, tableName });

    const claim = await store.claimTransfer(KEY, 'M1/original', 'worker-a', 60_000, 300);
    await store.countObject(KEY, 300, 'lease' in claim ? claim.count : undefined);
    await store.countObject(KEY, 300, 'lease' in claim ? claim.count : undefined);

    expect(claim).toMatchObject({ claimed: true, fresh: true });
    // The claim (which starts the count), the totals (one transaction: its marker checked absent).
    expect(sent).toEqual(['UpdateCommand', 'TransactWriteItemsCommand']);
    sent.length = 0;
    await store.flush();
    // The settled counts' markers in one batch, then their nonces dropped from the totals.
    expect(sent).toEqual(['BatchWriteCommand', 'UpdateCommand']);
    const { Items } = await local.documents.send(new ScanCommand({ TableName: tableName }));
    const counters = Items?.find((item) => item['pk'] === 'counters');
    expect(Object.keys(counters ?? {}).sort()).toEqual(['bytes', 'objects', 'pk', 'sk']);

    // Another worker that adopts the object later finds its count settled: nothing is added.
    const other = new DynamoDbSyncStateStore({ client: local.documents, tableName });
    const again = await other.claimTransfer(KEY, 'M1/original', 'worker-b', 60_000, 300);
    await other.countObject(KEY, 300, 'lease' in again ? again.count : undefined);
    await other.flush();
    expect(await other.getCounters()).toEqual({ objects: 1, bytes: 300 });
    await other.uncountObject(KEY);
    expect(await other.getCounters()).toEqual({ objects: 0, bytes: 0 });
  });

  it('leaves an object counted the old way (its own object item) to that count', async () => {
    const tableName = await local.createTable();
    const store = new DynamoDbSyncStateStore({ client: local.documents, tableName });
    await store.claimKey(KEY, 'M1/original');
    await store.countObject(KEY, 300);

    const claim = await store.claimTransfer(KEY, 'M1/original', 'worker-a', 60_000, 300);
    await store.countObject(KEY, 300, 'lease' in claim ? claim.count : undefined);
    expect(await store.getCounters()).toEqual({ objects: 1, bytes: 300 });
    await store.uncountObject(KEY);
    expect(await store.getCounters()).toEqual({ objects: 0, bytes: 0 });
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
