import { describe, expect, it } from 'vitest';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import type { AssetSource } from '#ports/asset-source.ts';
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
