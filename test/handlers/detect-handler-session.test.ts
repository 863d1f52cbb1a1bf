import { describe, expect, it } from 'vitest';
import { SessionExpiredError, SignInLatchedError } from '#domain/errors.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import type { AssetSource } from '#ports/asset-source.ts';
import { METRICS } from '#shared/env-names.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { fakeIcloud, lambdaContext, ScriptedCdn } from './handler-doubles.ts';

const MINUTE = 60_000;

/** A library where nothing ever changes: `changes/database` reports no zone. */
const quietSource: Partial<AssetSource> = {
  changedZones: async () => ({ zones: [], syncToken: 'db-token', moreComing: false }),
};

async function idleRun(storedMinutesAgo: number): Promise<number> {
  const icloud = fakeIcloud(new ScriptedCdn(), quietSource, {
    storedAt: Date.now() - storedMinutesAgo * MINUTE,
  });
  const state = new InMemorySyncStateStore();
  // A zone seen before, so this is not a first run.
  await state.saveZone(
    { zone: { database: 'private', zoneName: 'PrimarySync' }, syncToken: 'zone-token' },
    0,
  );
  const handler = createDetectHandler({
    state,
    queue: new InMemoryWorkQueue(),
    icloud: async () => icloud.adapters,
    deletePolicy: DEFAULT_DELETE_POLICY,
    reserveMs: 1_000,
    logger: createLogger({ level: 'SILENT' }),
    metrics: new CollectedMetrics(),
  });
  const result = await handler(
    {},
    lambdaContext(() => 60_000),
  );
  expect(result.outcome).toBe('idle');
  return icloud.saves();
}

describe('the detector and the stored session', () => {
  it('leaves a recently stored session alone on an idle run', async () => {
    expect(await idleRun(5)).toBe(0);
  });

  it('writes back the rotated cookies on an idle run once the stored session is half an hour old', async () => {
    expect(await idleRun(31)).toBe(1);
  });
});

describe('the detector and the reauth latch', () => {
  async function runFailingWith(error: Error) {
    const state = new InMemorySyncStateStore();
    const metrics = new CollectedMetrics();
    const handler = createDetectHandler({
      state,
      queue: new InMemoryWorkQueue(),
      icloud: async () => {
        throw error;
      },
      deletePolicy: DEFAULT_DELETE_POLICY,
      reserveMs: 1_000,
      logger: createLogger({ level: 'SILENT' }),
      metrics,
    });
    const result = await handler(
      {},
      lambdaContext(() => 60_000),
    );
    return { result, metrics: metrics.values, runs: await state.listRuns(10) };
  }

  it('raises reauthRequired and records the run when it finds a person is needed', async () => {
    const { result, metrics, runs } = await runFailingWith(new SessionExpiredError('two-factor again'));
    expect(result.outcome).toBe('reauthRequired');
    expect(metrics.get(METRICS.reauthRequired)).toBe(1);
    expect(runs.map((r) => r.outcome)).toEqual(['reauthRequired']);
  });

  it('stops quietly on a latched session: signInPending only, no second reauthRequired, no run record', async () => {
    const latched = new SignInLatchedError('sign-in needed since earlier', {
      since: 1,
      action: 'icloud-s3 login --aws',
    });
    const { result, metrics, runs } = await runFailingWith(latched);
    expect(result).toMatchObject({ outcome: 'reauthRequired', action: 'icloud-s3 login --aws' });
    expect(metrics.get(METRICS.reauthRequired)).toBeUndefined();
    expect(metrics.get(METRICS.signInPending)).toBe(1);
    expect(runs).toEqual([]);
  });
});
