/**
 * Two messages of one local run count the same objects at once (your photo in both libraries:
 * the personal asset's message stored it, the Shared Library asset's message adopted it). The
 * first applies the counts it started, writes their markers, and its next write drops their
 * nonces from the counters item. The second read the markers before they were written: its write,
 * conditioned on the nonces the counters item no longer holds, counted the objects again (a local
 * sync that downloads while it detects met this: 31 objects for 29). The store applied those
 * counts itself moments before; it now looks at what it applied once the markers are read.
 *
 * Two workers (two Lambda processes, two stores) meet the same window and remember nothing of each
 * other: the one that read no marker writes while the other applies, writes the markers and drops
 * the nonces. The write to the totals is now conditioned on the markers too, in one transaction.
 */
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbArchiveStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { manualClock } from '#test/fakes/contracts/sync-state-store-contract.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

/** A gate: `wait()` resolves once `open()` is called. */
function gate(): { readonly wait: () => Promise<void>; readonly open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait: () => opened, open };
}

describe('DynamoDbArchiveStateStore counts', () => {
  it('counts each object once when two messages count the same objects at once', async () => {
    const tableName = await local.createTable();
    // The second counter's read of the markers answers only once the first has finished.
    const markersRead = gate();
    const firstDone = gate();
    let markerReads = 0;
    const client = {
      send: async (command: { constructor: { name: string }; input: unknown }) => {
        const output = await local.documents.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
        const keys = JSON.stringify(command.input);
        if (command.constructor.name === 'BatchGetCommand' && keys.includes('counted#')) {
          markerReads++;
          if (markerReads === 1) {
            markersRead.open();
            await firstDone.wait();
          }
        }
        return output;
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoDbArchiveStateStore({ client, tableName, now: manualClock().now });
    const claimed = async (prefix: string, holder: string, n: number) => {
      const counted: { key: string; size: number; count?: string }[] = [];
      for (let i = 0; i < n; i++) {
        const key = `${prefix}/IMG_${i}.JPG`;
        const claim = await store.claimTransfer(key, `${prefix}${i}/original`, holder, 60_000, 10);
        counted.push({ key, size: 10, ...('count' in claim && claim.count ? { count: claim.count } : {}) });
      }
      return counted;
    };
    // 50 objects: the first counter applies them in two writes of 25, writing the first 25's
    // markers in between; its second write drops their nonces from the counters item.
    const objects = await claimed('library', 'worker-a', 50);
    expect(objects.every((o) => o.count?.startsWith('mine:'))).toBe(true);

    // The adopter stored one object of its own (its count started by its claim) and adopted the
    // 50: it reads their claims, then the markers.
    const own = await store.claimTransfer('library/IMG_OWN.JPG', 'M99/original', 'worker-b', 60_000, 7);
    const ownCount = 'count' in own ? own.count : undefined;
    expect(ownCount?.startsWith('mine:')).toBe(true);
    const second = store.countObjects([
      { key: 'library/IMG_OWN.JPG', size: 7, ...(ownCount === undefined ? {} : { count: ownCount }) },
      ...objects.map(({ key, size }) => ({ key, size })),
    ]);
    await markersRead.wait();
    await store.countObjects(objects);
    firstDone.open();
    await second;
    await store.flush();

    expect(await store.getCounters()).toEqual({ objects: 51, bytes: 507 });
  }, 30_000);

  describe('two workers (two stores on one table)', () => {
    /**
     * Two stores on one table: the second holds its first write to the totals until the first
     * has counted the same objects, written their markers and dropped their nonces (whatever it
     * read before that write, it read before the first counted).
     */
    async function twoWorkers() {
      const tableName = await local.createTable();
      const firstDone = gate();
      const secondWaiting = gate();
      let held = false;
      const secondClient = {
        send: async (command: { constructor: { name: string }; input: unknown }) => {
          const writes = !/Get|Query/.test(command.constructor.name);
          if (writes && !held && JSON.stringify(command.input).includes('"counters"')) {
            held = true;
            secondWaiting.open();
            await firstDone.wait();
          }
          return local.documents.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
        },
      } as unknown as DynamoDBDocumentClient;
      const clock = manualClock();
      const first = new DynamoDbArchiveStateStore({ client: local.documents, tableName, now: clock.now });
      const second = new DynamoDbArchiveStateStore({ client: secondClient, tableName, now: clock.now });
      const objects: { key: string; size: number; count?: string }[] = [];
      for (let i = 0; i < 30; i++) {
        const key = `library/IMG_${i}.JPG`;
        const claim = await first.claimTransfer(key, `A${i}/original`, 'worker-a', 60_000, 10);
        objects.push({ key, size: 10, ...('count' in claim && claim.count ? { count: claim.count } : {}) });
      }
      expect(objects.every((o) => o.count?.startsWith('mine:'))).toBe(true);
      /** Runs the second worker's counting up to its held write, lets the first count, then lets it go. */
      const race = async (secondCounts: () => Promise<void>) => {
        const counting = secondCounts();
        await secondWaiting.wait();
        await first.countObjects(objects);
        await first.flush();
        firstDone.open();
        await counting;
        await second.flush();
      };
      return { first, second, objects, race };
    }

    it('counts each object once when another worker adopts them in a batch while their claimer counts them', async () => {
      const { first, second, objects, race } = await twoWorkers();
      await race(() => second.countObjects(objects.map(({ key, size }) => ({ key, size }))));
      expect(await first.getCounters()).toEqual({ objects: 30, bytes: 300 });
    }, 30_000);

    it('counts an object once when another worker counts it on its own while its claimer counts it', async () => {
      const { first, second, objects, race } = await twoWorkers();
      const [object] = objects;
      await race(() => second.countObject(object!.key, object!.size));
      expect(await first.getCounters()).toEqual({ objects: 30, bytes: 300 });
    }, 30_000);

    it('counts each object once when the other worker applies counts it started while another adopted them', async () => {
      // The claimer is the held one now: it read nothing (its counts are its own), and the other
      // worker adopted them, counted, wrote the markers and dropped the nonces meanwhile.
      const { first, second, objects, race } = await twoWorkers();
      await race(() => second.countObjects(objects));
      expect(await first.getCounters()).toEqual({ objects: 30, bytes: 300 });
    }, 30_000);
  });

  it('goes again when a transaction on the counters item holds a write back: a count cancelled for a conflict, a nonce drop refused', async () => {
    const tableName = await local.createTable();
    // DynamoDB's answers while another worker's transaction holds the counters item: the count's
    // transaction cancelled (`TransactionConflict`), a plain write refused with
    // TransactionConflictException (which the SDK does not retry).
    const heldBack: string[] = [];
    const client = {
      send: async (command: { constructor: { name: string }; input: unknown }) => {
        const text = JSON.stringify(command.input);
        if (command.constructor.name === 'TransactWriteItemsCommand' && !heldBack.includes('count')) {
          heldBack.push('count');
          const items = (command.input as { TransactItems: unknown[] }).TransactItems;
          throw Object.assign(new Error('Transaction cancelled'), {
            name: 'TransactionCanceledException',
            CancellationReasons: items.map((_, i) => ({
              Code: i === items.length - 1 ? 'TransactionConflict' : 'None',
            })),
          });
        }
        if (
          command.constructor.name === 'UpdateCommand' &&
          text.includes('"counters"') &&
          text.includes('REMOVE')
        ) {
          if (!heldBack.includes('drop')) {
            heldBack.push('drop');
            throw Object.assign(new Error('Transaction is ongoing for the item'), {
              name: 'TransactionConflictException',
            });
          }
        }
        return local.documents.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoDbArchiveStateStore({ client, tableName, now: manualClock().now });
    const objects: { key: string; size: number; count?: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const key = `library/IMG_${i}.JPG`;
      const claim = await store.claimTransfer(key, `A${i}/original`, 'worker-a', 60_000, 10);
      objects.push({ key, size: 10, ...('count' in claim && claim.count ? { count: claim.count } : {}) });
    }

    await store.countObjects(objects);
    await store.flush();

    expect(heldBack).toEqual(['count', 'drop']);
    expect(await store.getCounters()).toEqual({ objects: 3, bytes: 30 });
    const { Items } = await local.documents.send(new ScanCommand({ TableName: tableName }));
    const counters = Items?.find((item) => item['pk'] === 'counters');
    expect(Object.keys(counters ?? {}).filter((name) => name.startsWith('applied_'))).toEqual([]);
  });
});
