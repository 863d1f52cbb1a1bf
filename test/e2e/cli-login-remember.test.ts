/**
 * `login` while the stored session still works decides the remembered password again, as every
 * login does (docs/login.md): `--remember-password` stores it, a login without the flag removes
 * it; neither signs in again (no SRP, no code) nor asks for what it does not need.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliLoginRun, runCliLogin } from '#test/helpers/cli-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;

const login = (args: readonly string[], env: Record<string, string> = {}) =>
  runCliLogin(sim, control, ['--json', ...args], env);
const resultOf = (run: CliLoginRun) =>
  JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;

/** The sign-in steps the account saw since the last reset (SRP, codes). */
async function signInSteps(): Promise<string[]> {
  const { steps } = await control.call<{ steps: readonly { step: string }[] }>(
    'GET',
    `/accounts/steps?appleId=${encodeURIComponent(sim.appleId)}`,
  );
  return steps
    .map((s) => s.step)
    .filter((s) => s.startsWith('signin') || s.includes('trigger') || s.includes('sms'));
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 2 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-login-remember-'));
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await control.call('DELETE', '/accounts/steps');
  await control.resetThrottle();
});

let sessionNo = 0;
const sessionFile = () => join(dir, `session-${++sessionNo}.json`);

describe('login while the stored session still works', () => {
  it('with --remember-password stores the password, without signing in again', async () => {
    const file = sessionFile();
    expect((await login(['--session-file', file])).code).toBe(0);
    expect(await readFile(file, 'utf8')).not.toContain(sim.password);
    await control.call('DELETE', '/accounts/steps');

    const run = await login(['--session-file', file, '--remember-password']);

    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toMatchObject({
      status: 'already-signed-in',
      passwordRemembered: true,
      passwordChange: 'stored',
    });
    expect(await readFile(file, 'utf8')).toContain(sim.password);
    expect(await signInSteps()).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain(sim.password);
  });

  it('without the flag removes a remembered password, asking for none', async () => {
    const file = sessionFile();
    expect((await login(['--session-file', file, '--remember-password'])).code).toBe(0);
    expect(await readFile(file, 'utf8')).toContain(sim.password);
    await control.call('DELETE', '/accounts/steps');

    // No password to be had: the removal must not need one.
    const run = await login(['--session-file', file], { ICLOUD_PASSWORD: '' });

    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toMatchObject({
      status: 'already-signed-in',
      passwordRemembered: false,
      passwordChange: 'removed',
    });
    expect(await readFile(file, 'utf8')).not.toContain(sim.password);
    expect(await signInSteps()).toEqual([]);
  });

  it('changes nothing when the flag agrees with what is stored', async () => {
    const file = sessionFile();
    expect((await login(['--session-file', file])).code).toBe(0);
    const run = await login(['--session-file', file], { ICLOUD_PASSWORD: '' });
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toMatchObject({
      status: 'already-signed-in',
      passwordRemembered: false,
      passwordChange: null,
    });
  });
});
