/**
 * One photo whose work the download workers fail for 20 days (a throttled account, a bad deploy),
 * SQS modelled as in given-up-work-retried.test.ts. Its work is redriven five times over about a
 * day and given up to the failed photos' retry list (finding 116), which queues a copy of it daily
 * for ever; each copy the workers fail is given up again. The `WorkGivenUp` alarm (Maximum over one
 * schedule period, ALARM and OK actions) is told once for the photo, not once a day: a give-up
 * counts only for a photo newly listed, and it enters the list as tried for a day (daily tries,
 * never reported again by the list). Before (docs/reliability.md): 24 counts, 22 alarm episodes
 * (44 emails) and 729 worker deliveries in the 20 days. Once the workers run, the photo is archived.
 */

import { describe, expect, it } from 'vitest';
import { MINUTE, START, sqsRetentionWorld, TICK } from './sqs-retention-world.ts';

describe('one photo whose work keeps failing, 20 days', () => {
  it('notifies WorkGivenUp once, not once per daily copy the retry list queues', async () => {
    const FIXED = START + 20 * 24 * 60 * MINUTE;
    // Until FIXED the invocation fails as a throttled or crashing Lambda does: every record back.
    const world = await sqsRetentionWorld({ latched: false, workersFailUntil: FIXED });
    const { state, objects, asset } = world;

    // The alarm: Maximum of workGivenUp over one schedule period, 1 evaluation period, missing data
    // not breaching (infra/pipeline-alarms.ts): each period with a count after one without is a
    // new OK -> ALARM transition, i.e. a new email.
    let notifications = 0;
    let inAlarm = false;
    const tick = async () => {
      const counted = await world.tick();
      if (counted > 0 && !inAlarm) notifications += 1;
      inAlarm = counted > 0;
    };

    // Twenty days of failing workers, nobody there.
    for (; world.now < FIXED; world.now += TICK) await tick();
    expect(world.droppedBySqs).toBe(0);
    // Told once: the first give-up. (Before finding 116: counted on every run for 14 days, then
    // the letter lost after 30 deliveries.)
    expect({ givenUp: world.givenUp, notifications }).toEqual({ givenUp: 1, notifications: 1 });
    // The copies: the first message's 30 deliveries (5 receives x 6 sends), then one copy a day
    // from the list, each at most as many: bounded, about 30 a day while the workers fail.
    expect(world.deliveries).toBeLessThanOrEqual(30 * 20);
    expect((await state.loadZonesAndRetries()).retries.map((r) => r.assetRecordName)).toEqual([
      asset.assetRecordName,
    ]);

    // The workers run again: within a day (and the visibility timeout) the photo is archived.
    for (const end = world.now + 25 * 60 * MINUTE; world.now < end; world.now += TICK) await tick();
    expect(objects.keys()).toHaveLength(1);
    expect((await state.getEntry(asset))?.status).toBe('archived');
    expect(world.givenUp).toBe(1);
  });
});
