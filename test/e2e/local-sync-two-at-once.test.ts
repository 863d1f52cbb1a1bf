/**
 * Two `sync --local DIR` at once on the same DIR (a cron job overlapping a manual run): the second
 * refuses at once (`state-in-use`, exit 1, the folder not called damaged), the first goes on and
 * completes the archive. The local DynamoDB's LevelDB LOCK is what keeps the second out; it is
 * also why a sync that finds the unclean-stop marker naming a live PID knows that process is not a
 * sync on this folder (local-sync-stale-lock.test.ts, reliability finding 109).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { expectedDigests, readLocalArchive, type TruthAsset } from '#test/helpers/local-archive.ts';
import { runCli } from '#test/helpers/run-cli.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 20, seed: 17 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-two-at-once-'));
  await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('two syncs at once on one data folder', () => {
  it('the second refuses with state-in-use; the first completes the archive', async () => {
    const args = (extra: string[] = []) => [
      'sync',
      '--json',
      ...extra,
      '--local',
      join(dir, 'data'),
      '--session-file',
      join(dir, 'session.json'),
      '--endpoint',
      sim.controlUrl,
    ];
    await control.injectFault({ endpoint: 'cdn', delayMs: 200 });
    await control.resetStats();
    const first = spawn(process.execPath, ['--import', 'tsx', CLI, ...args(['--concurrency', '1'])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out1 = '';
    let err1 = '';
    first.stdout?.on('data', (c: Buffer) => {
      out1 += c.toString();
    });
    first.stderr?.on('data', (c: Buffer) => {
      err1 += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => first.once('exit', resolve));
    for (let i = 0; i < 300 && ((await control.stats()).requests['cdn'] ?? 0) < 3; i++) await sleep(100);
    const second = await runCli(args());
    const code1 = await exited;
    await control.clearFaults();
    expect(second.code).toBe(1);
    expect(JSON.parse(second.stdout).error.code).toBe('state-in-use');
    expect(second.stdout).not.toMatch(/it is damaged|Move it aside/);
    expect(JSON.parse(out1)).toMatchObject({ status: 'succeeded' });
    expect(code1, err1).toBe(0);
    const truth = (await control.library<{ assets: TruthAsset[] }>()).assets;
    const digests = (await readLocalArchive(join(dir, 'data'))).map((o) => o.metadata['icloud-sha256']);
    expect(new Set(digests)).toEqual(expectedDigests(truth));
  });
});
