/**
 * The detector heals the pipeline before it detects: dead-lettered work that is due goes back to
 * the work queue at the start of a run, and a redrive that fails never stops detection.
 */
import { describe, expect, it } from 'vitest';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { RedriveDeps } from '#app/redrive-dead-letters.ts';
import { GIVEN_UP_TRIES } from '#domain/detect/failed-retries.ts';
import { SessionExpiredError } from '#domain/errors.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { METRICS } from '#shared/env-names.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryDeadLetterQueue } from '#test/fakes/in-memory-dead-letter-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { lambdaContext, photoAsset, RecordingLogger, workBody, ZONE } from './handler-doubles.ts';

const NOW = Date.UTC(2026, 11, 6, 12);
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

function setUp(deadLetters: RedriveDeps['deadLetters'], signInLatched?: () => Promise<boolean>) {
  const metrics = new CollectedMetrics();
  const logger = new RecordingLogger();
  const state = new InMemorySyncStateStore();
  const handler = createDetectHandler(
    {
      state,
      queue: new InMemoryWorkQueue(),
      // Detection itself stops at once: these tests are about what happens before it.
      icloud: async () => {
        throw new SessionExpiredError('the session expired', { action: 'icloud-s3 login' });
      },
      deletePolicy: DEFAULT_DELETE_POLICY,
      reserveMs: 20_000,
      logger,
      metrics,
    },
    {
      deadLetters,
      retries: state,
      decode: parseWorkMessage,
      logger,
      metrics,
      now: () => NOW,
      ...(signInLatched ? { signInLatched } : {}),
    },
  );
  return { handler, metrics, logger, state };
}

describe('the detector and the dead-letter queue', () => {
  it('sends due dead letters back to the work queue before detecting, and counts what it gave up', async () => {
    const dlq = new InMemoryDeadLetterQueue();
    dlq.add('never redriven');
    dlq.add('redriven an hour ago', { redrives: 1, lastRedrivenAt: NOW - HOUR / 2 });
    dlq.add('redriven five times', { redrives: 5, lastRedrivenAt: NOW - 100 * HOUR });
    const { handler, metrics } = setUp(dlq);

    const result = await handler(
      {},
      lambdaContext(() => 600_000, 'heal'),
    );

    expect(result.outcome).toBe('reauthRequired');
    expect(dlq.workQueue).toEqual([{ body: 'never redriven', redrives: 1, redrivenAt: NOW }]);
    expect([...dlq.letters.values()].map((l) => l.body).sort()).toEqual([
      'redriven an hour ago',
      'redriven five times',
    ]);
    expect(metrics.values.get(METRICS.workRedriven)).toBe(1);
    expect(metrics.values.get(METRICS.workGivenUp)).toBe(1);
  });

  it('while sign-in is latched, redrives nothing and gives nothing up: the letters wait for the login', async () => {
    const dlq = new InMemoryDeadLetterQueue();
    dlq.add('never redriven');
    dlq.add('redriven five times', { redrives: 5, lastRedrivenAt: NOW - 100 * HOUR });
    const { handler, metrics, logger } = setUp(dlq, async () => true);

    await handler(
      {},
      lambdaContext(() => 600_000, 'latched'),
    );

    expect(dlq.workQueue).toEqual([]);
    expect(dlq.letters.size).toBe(2);
    expect(metrics.values.get(METRICS.workGivenUp)).toBeUndefined();
    expect(logger.messages()).toContain('dead-lettered work waits for the sign-in');
  });

  it("moves a given-up letter's photos to the retry list before deleting it; an unreadable one stays", async () => {
    const dlq = new InMemoryDeadLetterQueue();
    const a = photoAsset('a', 10);
    const b = photoAsset('b', 10);
    dlq.add(
      workBody(
        [
          { type: 'asset', asset: a },
          {
            type: 'assetOnly',
            change: {
              zone: ZONE,
              assetRecordName: b.assetRecordName,
              masterRecordName: b.masterRecordName,
              assetChangeTag: 'a2',
              isFavorite: true,
              isHidden: false,
              isDeleted: false,
              isExpunged: false,
              versions: [],
            },
          },
          { type: 'tombstone', zone: ZONE, recordName: 'asset-gone', inferredType: 'CPLAsset' },
        ],
        NOW - 2 * DAY,
      ),
      { redrives: 5, lastRedrivenAt: NOW - 20 * HOUR, sentAt: NOW - 20 * HOUR },
    );
    dlq.add('not a work message', { redrives: 5, lastRedrivenAt: NOW - 20 * HOUR });
    const { handler, metrics, state, logger } = setUp(dlq);

    await handler(
      {},
      lambdaContext(() => 600_000, 'give up'),
    );

    const { retries } = await state.loadZonesAndRetries();
    expect(retries.map((r) => [r.assetRecordName, r.failedAt, r.tries]).sort()).toEqual([
      // A day of redrives behind them, told now: tried daily, never reported again.
      ['asset-a', NOW, GIVEN_UP_TRIES],
      ['asset-b', NOW, GIVEN_UP_TRIES],
    ]);
    expect(dlq.removed).toHaveLength(1);
    expect([...dlq.letters.values()].map((l) => l.body)).toEqual(['not a work message']);
    // Counted once each, as they are given up: the unreadable one on every pass, as before.
    expect(metrics.values.get(METRICS.workGivenUp)).toBe(2);
    expect(logger.messages()).toContain('dead-lettered work given up without a photo to retry');
  });

  it('does not count a letter whose photos were all on the retry list already (the list tells them)', async () => {
    const dlq = new InMemoryDeadLetterQueue();
    const a = photoAsset('a', 10);
    const b = photoAsset('b', 10);
    const given = { redrives: 5, lastRedrivenAt: NOW - 20 * HOUR, sentAt: NOW - 20 * HOUR };
    dlq.add(workBody([{ type: 'asset', asset: a }], NOW - 2 * DAY), given);
    const { handler, metrics, state } = setUp(dlq);
    // The retry list's own copy of a's work, given up again: a is listed, tried 9 times.
    await state.noteFailedForRetry(a, NOW - 2 * DAY);
    await state.recordRetryTried({ ...a, failedAt: NOW - 2 * DAY, tries: 0 }, 9, NOW - DAY);

    await handler(
      {},
      lambdaContext(() => 600_000, 'given up again'),
    );

    expect(dlq.removed).toHaveLength(1);
    expect(metrics.values.get(METRICS.workGivenUp) ?? 0).toBe(0);
    // Its failure noted, its tries kept.
    expect(
      (await state.loadZonesAndRetries()).retries.map((r) => [r.assetRecordName, r.failedAt, r.tries]),
    ).toEqual([['asset-a', NOW, 9]]);

    // A letter naming a photo not listed yet is told, even beside a listed one.
    dlq.add(
      workBody(
        [
          { type: 'asset', asset: a },
          { type: 'asset', asset: b },
        ],
        NOW - 2 * DAY,
      ),
      given,
    );
    await handler(
      {},
      lambdaContext(() => 600_000, 'one new'),
    );
    expect(metrics.values.get(METRICS.workGivenUp)).toBe(1);
  });

  it('while latched, moves a letter SQS deletes within a day to the retry list; a younger one waits', async () => {
    const dlq = new InMemoryDeadLetterQueue();
    const old = photoAsset('old', 10);
    const young = photoAsset('young', 10);
    dlq.add(workBody([{ type: 'asset', asset: old }], NOW - 14 * DAY), { sentAt: NOW - 13 * DAY - HOUR });
    dlq.add(workBody([{ type: 'asset', asset: young }], NOW - 12 * DAY), { sentAt: NOW - 12 * DAY });
    const { handler, metrics, state } = setUp(dlq, async () => true);

    await handler(
      {},
      lambdaContext(() => 600_000, 'latched and old'),
    );

    expect((await state.loadZonesAndRetries()).retries.map((r) => r.assetRecordName)).toEqual(['asset-old']);
    expect([...dlq.letters.values()].map((l) => l.sentAt)).toEqual([NOW - 12 * DAY]);
    expect(dlq.workQueue).toEqual([]);
    // Not given up: it waits on the retry list for the login, as the letter waited.
    expect(metrics.values.get(METRICS.workGivenUp)).toBeUndefined();
  });

  it('redrives a letter about to be deleted rather than let it wait out its backoff', async () => {
    const dlq = new InMemoryDeadLetterQueue();
    dlq.add('old', { redrives: 4, lastRedrivenAt: NOW - HOUR, sentAt: NOW - 13 * DAY - HOUR });
    const { handler } = setUp(dlq);

    await handler(
      {},
      lambdaContext(() => 600_000, 'old'),
    );

    expect(dlq.workQueue).toEqual([{ body: 'old', redrives: 5, redrivenAt: NOW }]);
  });

  it('leaves the letters waiting when the latch cannot be read', async () => {
    const dlq = new InMemoryDeadLetterQueue();
    dlq.add('never redriven');
    const { handler, logger } = setUp(dlq, async () => {
      throw new Error('AccessDenied on the session secret');
    });

    await handler(
      {},
      lambdaContext(() => 600_000, 'unreadable latch'),
    );

    expect(dlq.workQueue).toEqual([]);
    expect(logger.messages()).toContain('sign-in latch not read; dead letters wait for the next run');
  });

  it('still detects when the dead-letter queue cannot be read', async () => {
    const broken = new InMemoryDeadLetterQueue();
    broken.pending = async () => {
      throw new Error('AccessDenied');
    };
    const { handler, logger } = setUp(broken);

    const result = await handler(
      {},
      lambdaContext(() => 600_000, 'broken'),
    );

    expect(result.outcome).toBe('reauthRequired');
    expect(logger.messages()).toContain('dead-letter redrive failed; the next run tries again');
  });
});
