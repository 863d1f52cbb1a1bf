/**
 * Two messages of one local run count the same objects at once (your photo in both libraries:
 * the personal asset's message stored it, the Shared Library asset's message adopted it). The
 * first applies the counts it started, writes their markers, and its next write drops their
 * nonces from the counters item. The second read the markers before they were written: its write,
 * conditioned on the nonces the counters item no longer holds, counted the objects again (a local
 * sync that downloads while it detects met this: 31 objects for 29). The store applied those
 * counts itself moments before; it now looks at what it applied once the markers are read.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
});
