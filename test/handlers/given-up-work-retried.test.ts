/**
 * Work the download workers fail for 20 days (a worker that cannot run: the account's Lambda
 * concurrency throttled, a bad deploy, a timeout) while the detector runs and redrives, with SQS's
 * retention modelled: a message is deleted 14 days after its last send, in either queue (a redrive
 * is a new send, the move to the dead-letter queue is not). The work is redriven five times over
 * about a day and given up; it then leaves the dead-letter queue for the failed photos' retry list
 * (docs/reliability.md, finding 116) instead of staying there until SQS deletes it, and the photo
 * is archived once the workers run again. Before the fix: `workGivenUp` counted on 1,313 runs,
 * SQS deleted the letter after 14 days, and nothing recorded the photo.
 */

import { describe, expect, it } from 'vitest';
import { MAX_RECEIVES, MINUTE, START, sqsRetentionWorld, TICK } from './sqs-retention-world.ts';

describe('work the workers fail for 20 days while nobody is there', () => {
  it('leaves the dead-letter queue for the retry list before SQS deletes it, and is archived once the workers run again', async () => {
    const FIXED = START + 20 * 24 * 60 * MINUTE;
    // Until FIXED the invocation fails as a throttled or crashing Lambda does: every record back.
    const world = await sqsRetentionWorld({ latched: false, workersFailUntil: FIXED });
    const { state, objects, cdn, asset, dlq, queue, tick } = world;

    // Twenty days of failing workers, nobody there.
    for (; world.now < FIXED; world.now += TICK) await tick();
    expect(objects.keys()).toEqual([]);
    // Nothing was left for SQS to delete: given-up letters went to the retry list, which queued
    // the photo again (a lookup a day), each copy given up and counted once as it left.
    expect(world.droppedBySqs).toBe(0);
    expect(dlq.removed.length).toBeGreaterThan(0);
    expect(world.givenUp).toBeLessThan(3 * 20);
    // The workers were offered the photo again all along (before: its 30 receives, then nothing).
    expect(world.deliveries).toBeGreaterThan(6 * MAX_RECEIVES);
    expect((await state.loadZonesAndRetries()).retries.map((r) => r.assetRecordName)).toEqual([
      asset.assetRecordName,
    ]);
    // No failed entry: the workers never got to run.
    expect(await state.getEntry(asset)).toBeUndefined();

    // The workers run again; the retry list is tried daily by now.
    for (let i = 0; i < 2 * 96; i += 1) {
      await tick();
      world.now += TICK;
    }

    expect(cdn.opened).toEqual(['https://cdn.test/waiting?fresh']);
    expect(objects.keys()).toHaveLength(1);
    expect((await state.getEntry(asset))?.status).toBe('archived');
    expect(dlq.letters.size).toBe(0);
    expect(queue).toEqual([]);
    // Archived since it was noted: off the list at its next try.
    expect((await state.loadZonesAndRetries()).retries).toEqual([]);
  });
});
