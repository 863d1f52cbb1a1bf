/**
 * The scheduled detector against the iCloud simulator when Apple refuses the stored database
 * token (docs/reliability.md finding 19), or lists the own library as `PrimarySync1` and answers
 * ZONE_NOT_FOUND for `PrimarySync` (finding 30): what the run reports, which metrics it emits and
 * what it asks Apple.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { METRICS } from '#shared/env-names.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { lambdaContext, RecordingLogger } from './handler-doubles.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let signedIn: SignedIn;

function setUp(state: InMemorySyncStateStore) {
  const metrics = new CollectedMetrics();
  const logger = new RecordingLogger();
  const handler = createDetectHandler({
    state,
    queue: new InMemoryWorkQueue(),
    icloud: () => openIcloudAdapters({ ...signedIn, logger }),
    deletePolicy: DEFAULT_DELETE_POLICY,
    reserveMs: 20_000,
    logger,
    metrics,
  });
  const run = (id: string) =>
    handler(
      {},
      lambdaContext(() => 600_000, id),
    );
  return { run, metrics, logger };
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 30, seed: 5 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-detect-zone-token-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a database token Apple refuses (finding 19)', () => {
  it('is dropped: the run reads every zone without a token, follows each from its own token, and succeeds', async () => {
    const state = new InMemorySyncStateStore();
    expect((await setUp(state).run('first')).outcome).toBe('caughtUp');
    const { run, metrics, logger } = setUp(state);
    const stored = await state.loadDatabaseState('private');
    // A token CloudKit cannot read any more: it answers 400 BAD_REQUEST to changes/database.
    await state.saveDatabaseToken(
      'private',
      'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      stored?.revision ?? 0,
    );
    await control.mutate({ op: 'add', kind: 'photo', count: 1 });

    const result = await run('after-refusal');

    expect(result.outcome).toBe('caughtUp');
    expect(result).toMatchObject({ itemsEnqueued: 1, databaseTokensRefused: ['private'] });
    const requests = 'appleRequests' in result ? result.appleRequests : {};
    expect(requests['changes/database']).toBe(2);
    // Each zone (PrimarySync and the Shared Library) from its own token: nothing walked again.
    expect(requests['changes/zone']).toBe(2);
    expect(requests['records/query'] ?? 0).toBe(0);
    expect(metrics.values.get(METRICS.syncSucceeded)).toBe(1);
    expect(logger.messages()).toContain(
      'CloudKit refused the stored database token; read every zone instead',
    );

    const idle = await setUp(state).run('idle-after');
    expect(idle.outcome).toBe('idle');
    expect('appleRequests' in idle ? idle.appleRequests : {}).toEqual({ 'changes/database': 1 });
  });
});

describe('a database token Apple expired (finding 19, S87 switch)', () => {
  it('is read again without a token and replaced, and the next run is one request again', async () => {
    const state = new InMemorySyncStateStore();
    expect((await setUp(state).run('expiry-first')).outcome).toBe('caughtUp');
    const old = (await state.loadDatabaseState('private'))?.syncToken as string;
    await control.quirks({ expiredTokens: [old] });
    try {
      const result = await setUp(state).run('expired');

      expect(result).toMatchObject({ outcome: 'caughtUp', databaseTokensRefused: ['private'] });
      expect('appleRequests' in result ? result.appleRequests['records/query'] : undefined).toBeUndefined();
      expect((await state.loadDatabaseState('private'))?.syncToken).not.toBe(old);
      const idle = await setUp(state).run('expired-idle');
      expect(idle.outcome).toBe('idle');
      expect('appleRequests' in idle ? idle.appleRequests : {}).toEqual({ 'changes/database': 1 });
    } finally {
      await control.quirks({ expiredTokens: [] });
    }
  });
});

describe('the own library Apple lists as PrimarySync1 (S141, finding 30)', () => {
  it('is followed under that name from the first run: the detector walks and enqueues it', async () => {
    await control.quirks({ migratedPrimaryZone: true });
    try {
      const state = new InMemorySyncStateStore();
      const { run, metrics } = setUp(state);

      const result = await run('migrated-first');

      expect(result.outcome).toBe('caughtUp');
      expect(result).toMatchObject({ itemsEnqueued: expect.any(Number) });
      expect('zones' in result ? result.zones : []).toContainEqual(
        expect.objectContaining({
          zone: { database: 'private', zoneName: 'PrimarySync1' },
          mode: 'enumeration',
        }),
      );
      expect(metrics.values.get(METRICS.reauthRequired)).toBeUndefined();
      expect((await setUp(state).run('migrated-idle')).outcome).toBe('idle');
    } finally {
      await control.quirks({ migratedPrimaryZone: false });
    }
  });

  it('retires the PrimarySync whose walk meets ZONE_NOT_FOUND, walks PrimarySync1 instead, and raises no alarm', async () => {
    const state = new InMemorySyncStateStore();
    expect((await setUp(state).run('first-sync')).outcome).toBe('caughtUp');
    const { run, metrics } = setUp(state);
    // The library is walked afresh (a lost zone state) in the run where Apple first answers
    // ZONE_NOT_FOUND for PrimarySync and lists PrimarySync1 instead.
    const zone = (await state.loadZones()).find((z) => z.zone.zoneName === 'PrimarySync');
    await state.saveZone({ zone: { database: 'private', zoneName: 'PrimarySync' } }, zone?.revision ?? 0);
    await control.quirks({ migratedPrimaryZone: true });
    try {
      const result = await run('zone-not-found');

      expect(result.outcome).toBe('caughtUp');
      expect(metrics.values.get(METRICS.reauthRequired)).toBeUndefined();
      expect(metrics.values.get(METRICS.syncSucceeded)).toBe(1);
      const zones = await state.loadZones();
      expect(zones.find((z) => z.zone.zoneName === 'PrimarySync')?.retired).toBe(true);
      expect(zones.find((z) => z.zone.zoneName === 'PrimarySync1')?.syncToken).toBeDefined();
      const [latest] = await state.listRuns(1);
      expect(latest).toMatchObject({ runId: 'zone-not-found', outcome: 'succeeded' });
      // No loop: the next run asks one question and finds nothing to do.
      const next = await setUp(state).run('after-move');
      expect(next.outcome).toBe('idle');
      expect('appleRequests' in next ? next.appleRequests : {}).toEqual({ 'changes/database': 1 });
    } finally {
      await control.quirks({ migratedPrimaryZone: false });
    }
  });
});
