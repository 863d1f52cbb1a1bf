/**
 * The world of latched-work-waits.test.ts (the workers fail queued work without asking Apple
 * while sign-in is latched, SQS parks it in the dead-letter queue, the detector leaves it there
 * unspent), with SQS's retention modelled (a message is deleted 14 days after its last send, in
 * either queue: infra/work-queue.ts) and a latch of 20 days instead of 3. The letter about to be
 * deleted leaves the dead-letter queue for the failed photos' retry list (no request to Apple) and
 * the first detection after the login queues the photo again (docs/reliability.md, finding 117).
 * Before the fix SQS deleted it on day 14 and nothing recorded the photo.
 */

import { describe, expect, it } from 'vitest';
import {
  MAX_RECEIVES,
  MINUTE,
  START,
  sessionDocument,
  sqsRetentionWorld,
  TICK,
} from './sqs-retention-world.ts';

describe('queued work while sign-in is latched for 20 days', () => {
  it('goes to the retry list before SQS deletes it, and is archived after the login', async () => {
    const world = await sqsRetentionWorld({ latched: true });
    const { store, state, objects, cdn, asset, dlq, queue, tick } = world;

    // Twenty days latched (a holiday, nobody answered the alarm), nobody signs in.
    for (; world.now < START + 20 * 24 * 60 * MINUTE; world.now += TICK) await tick();

    expect(world.givenUp).toBe(0);
    expect(queue).toEqual([]);
    expect(world.deliveries).toBe(MAX_RECEIVES);
    expect(cdn.opened).toEqual([]);
    expect(objects.keys()).toEqual([]);
    // A day before SQS would delete it, the letter left for the retry list, without asking Apple.
    expect(world.droppedBySqs).toBe(0);
    expect(dlq.letters.size).toBe(0);
    expect(dlq.removed).toHaveLength(1);
    expect((await state.loadZonesAndRetries()).retries.map((r) => [r.assetRecordName, r.tries])).toEqual([
      [asset.assetRecordName, 0],
    ]);

    // The person signs in: the next detector run sends the work back, a worker archives it.
    await store.save(await sessionDocument(false));
    for (let i = 0; i < 8; i += 1) {
      await tick();
      world.now += TICK;
    }

    expect(world.givenUp).toBe(0);
    expect(dlq.letters.size).toBe(0);
    expect(queue).toEqual([]);
    expect(cdn.opened).toEqual(['https://cdn.test/waiting?fresh']);
    expect(objects.keys()).toHaveLength(1);
  });
});
