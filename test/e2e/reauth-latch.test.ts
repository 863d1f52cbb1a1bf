/**
 * Issue 11 item 2, the re-login loop (kei#655): once Apple's trust has expired, a scheduled run
 * with a remembered password must not redo SRP every tick (each attempt can push a code to the
 * person's devices and counts toward Apple's sign-in throttle). The first run that learns a person
 * is needed latches the stored session; every later run stops before talking to Apple, until
 * `login` stores a new session. Drives the detector's entry for 24 simulated hours on the default
 * 15-minute schedule, against the simulator.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { METRICS } from '#shared/env-names.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { lambdaContext } from '#test/handlers/handler-doubles.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const RUNS_PER_DAY = 96;

interface Steps {
  readonly steps: readonly { readonly step: string; readonly status: number }[];
}

describe('a session whose trust has expired (re-login loop)', () => {
  let sim: SimulatorHandle;
  let dir: string;

  beforeEach(async () => {
    sim = await startTestSimulator({ assets: 3 });
    dir = await mkdtemp(join(tmpdir(), 'reauth-latch-'));
  });
  afterEach(async () => {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const authFlow of ['2026', '2025'] as const) {
    it(`asks Apple nothing and pushes no code for 24 h of scheduled runs, then works after login (${authFlow} flow)`, async () => {
      const control = controlClient(sim);
      await control.setFlags({ authFlow });
      const sessionFile = join(dir, 'session.json');
      const { endpoint, store } = await signInToSimulator(sim, sessionFile, { rememberPassword: true });

      // Our clock follows the simulator's, so the trust estimate ages with it.
      let offsetMs = 0;
      const now = () => Date.now() + offsetMs;
      const advance = async (ms: number) => {
        offsetMs += ms;
        await control.advanceClock({ advanceMs: ms });
      };
      const logger = createLogger({ level: 'SILENT' });
      const state = new InMemorySyncStateStore();
      const queue = new InMemoryWorkQueue();
      const metrics = new CollectedMetrics();
      const detect = createDetectHandler({
        state,
        queue,
        icloud: () => openIcloudAdapters({ endpoint, store, logger, now }),
        deletePolicy: DEFAULT_DELETE_POLICY,
        reserveMs: 1_000,
        logger,
        metrics,
        now,
      });
      const run = (n: number) =>
        detect(
          {},
          lambdaContext(() => 60_000, `run-${n}`),
        );

      expect((await run(0)).outcome).toBe('caughtUp');

      await advance(61 * DAY);
      await control.call('DELETE', '/accounts/steps');
      await control.resetStats();
      const outcomes = new Set<string>();
      for (let n = 1; n <= RUNS_PER_DAY; n++) {
        outcomes.add((await run(n)).outcome);
        await advance(15 * MINUTE);
      }

      const { steps } = await control.call<Steps>('GET', '/accounts/steps');
      const srpAttempts = steps.filter((s) => s.step === 'signin-init').length;
      // Codes go out on the PUT trigger (and the retired triggers and SMS); in the 2025 flow a
      // signin/complete answered 409 pushes one by itself.
      const pushes = steps.filter(
        (s) =>
          ['push-trigger', 'old-trigger', 'sms-sent'].includes(s.step) ||
          (authFlow === '2025' && s.step === 'signin-complete' && s.status === 409),
      ).length;
      const appleRequests = (await control.stats()).total;
      console.log(
        `24 h with expired trust (${authFlow}): ${pushes} codes pushed, ${srpAttempts} SRP attempts, ${appleRequests} requests to Apple, reauthRequired emitted ${metrics.values.get(METRICS.reauthRequired) ?? 0} times`,
      );
      expect([...outcomes]).toEqual(['reauthRequired']);
      expect(pushes).toBe(0);
      expect(srpAttempts).toBeLessThanOrEqual(1);
      // One run finds out (a CloudKit call, the refresh that fails); the other 95 ask nothing.
      expect(appleRequests).toBeLessThanOrEqual(6);
      expect(metrics.values.get(METRICS.reauthRequired)).toBe(1);
      // The other runs hold the sign-in alarm in ALARM without asking Apple.
      expect(metrics.values.get(METRICS.signInPending)).toBe(RUNS_PER_DAY - 1);

      // A person signs in again: the next scheduled run works.
      await signInToSimulator(sim, sessionFile, { rememberPassword: true });
      const after = await run(RUNS_PER_DAY + 1);
      expect(after.outcome).not.toBe('reauthRequired');
    });
  }
});
