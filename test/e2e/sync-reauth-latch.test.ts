/**
 * The reauth latch in the local runtime (`icloud-s3 sync`) and `status`: once a sync learns that
 * Apple wants a person, later syncs ask Apple nothing, `status` says since when and what to run,
 * and `login` lets the next sync work again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type CliRun, runCli } from '#test/helpers/run-cli.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let dataDir: string;
let sessionFile: string;
let signedIn: SignedIn;

function cli(args: readonly string[]): Promise<CliRun> {
  return runCli(args);
}

const status = (...extra: string[]) =>
  cli(['status', '--local', dataDir, '--session-file', sessionFile, ...extra]);
const sync = () => runLocalSync({ dataDir, ...signedIn, logger });

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 3 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-latch-'));
  dataDir = join(dir, 'data');
  sessionFile = join(dir, 'session.json');
  signedIn = await signInToSimulator(sim, sessionFile, { rememberPassword: true });
  expect((await sync()).outcome).toBe('succeeded');
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('icloud-s3 sync once Apple wants a person', () => {
  it('latches on the first sync, asks Apple nothing on the next, and status says what to run', async () => {
    await control.advanceClock({ advanceDays: 61 });
    await control.call('DELETE', '/accounts/steps');
    const first = await sync();
    expect(first.outcome).toBe('reauthRequired');

    await control.resetStats();
    const second = await sync();
    expect(second).toMatchObject({ outcome: 'reauthRequired', action: 'icloud-s3 login' });
    expect(second.message).toMatch(/sign-in needed since/);
    expect((await control.stats()).total).toBe(0);
    const { steps } = await control.call<{ steps: { step: string }[] }>('GET', '/accounts/steps');
    expect(steps.filter((s) => s.step === 'signin-init').length).toBeLessThanOrEqual(1);
    expect(steps.map((s) => s.step)).not.toContain('push-trigger');

    const json = JSON.parse((await status('--json')).stdout);
    expect(json.signInNeeded).toMatchObject({ action: 'icloud-s3 login' });
    expect(json.signInNeeded.since).toBeGreaterThan(0);
    const text = await status();
    expect(text.stderr).toMatch(
      /Sign-in needed since \d{4}-\d\d-\d\d \d\d:\d\d UTC, run npx icloud-s3 login/,
    );
  });

  it('works again after login, and status no longer mentions it', async () => {
    signedIn = await signInToSimulator(sim, sessionFile, { rememberPassword: true });
    expect((await sync()).outcome).not.toBe('reauthRequired');
    expect(JSON.parse((await status('--json')).stdout).signInNeeded).toBeNull();
  });
});
