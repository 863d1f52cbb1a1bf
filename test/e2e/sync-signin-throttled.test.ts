/**
 * `sync` when Apple throttles the unattended sign-in (docs/login.md, "Throttling"): it stops at
 * once with Apple's window in the message, and the next run does not try SRP again before the
 * window ends. It used to sleep the capped Retry-After (120 s) and sign in again, over and over.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { EXIT, exitCodeFor } from '../../functions/cli/io/exit-codes.ts';

const logger = createLogger({ level: 'SILENT' });
/**
 * Under the 120 s the sync used to sleep before signing in again: the bound tells stopping at once
 * from waiting the window, with room for a loaded machine (the local stack alone took 30 s at load 20).
 */
const STOPS_AT_ONCE_MS = 100_000;

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let signedIn: SignedIn;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 4, seed: 8 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-throttled-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'), { rememberPassword: true });
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function syncFailure(): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await runLocalSync({ dataDir: join(dir, 'archive'), ...signedIn, logger }).then(
    (summary) => new Error(`sync ended ${summary.outcome}`),
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

describe('sync while Apple throttles sign-in', () => {
  it('stops at once with the throttle window and exit code 1, after one sign-in attempt', async () => {
    // The session dies, so the sync must sign in again with the remembered password: Apple says 503.
    await control.signOutAll();
    await control.injectFault({ endpoint: 'signin/init', mode: 'srp-503' });
    await control.resetStats();

    const { error, ms } = await syncFailure();

    expect(String((error as Error).message)).toMatch(
      /Apple is throttling sign-in .*will not try again before \d{4}-\d\d-\d\dT/,
    );
    expect(exitCodeFor(error)).toBe(EXIT.failure);
    expect(ms).toBeLessThan(STOPS_AT_ONCE_MS);
    expect((await control.stats()).requests['signin/init']).toBe(1);
  });

  it('does not try to sign in again on the next run before the window ends', async () => {
    await control.resetStats();
    const { error, ms } = await syncFailure();
    expect(String((error as Error).message)).toMatch(
      /Apple is throttling sign-in .*will not try again before/,
    );
    expect(ms).toBeLessThan(STOPS_AT_ONCE_MS);
    expect((await control.stats()).requests['signin/init'] ?? 0).toBe(0);
  });
});
