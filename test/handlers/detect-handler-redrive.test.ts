/**
 * The detector heals the pipeline before it detects: dead-lettered work that is due goes back to
 * the work queue at the start of a run, and a redrive that fails never stops detection.
 */
import { describe, expect, it } from 'vitest';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { RedriveDeps } from '#app/redrive-dead-letters.ts';
import { SessionExpiredError } from '#domain/errors.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { METRICS } from '#shared/env-names.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryDeadLetterQueue } from '#test/fakes/in-memory-dead-letter-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { lambdaContext, RecordingLogger } from './handler-doubles.ts';

const NOW = Date.UTC(2026, 11, 6, 12);
const HOUR = 60 * 60 * 1000;

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
