/**
 * SIGTERM (systemd's stop, `timeout`, `docker stop`) during a `sync --local`'s downloads stops it
 * as Ctrl-C does (cli-sync-interrupt.test.ts): one line of how far it got, the one `--json`
 * object with the `interrupted` code, exit 143 (128 + SIGTERM), after the same bounded clean-up
 * (the refreshed session saved). It used to end at once, silently (reliability finding 111). No
 * s3rver child is left behind on the folder, and the next run completes the archive.
 */
import { execFileSync, spawn } from 'node:child_process';
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
  sim = await startTestSimulator({ assets: 30, seed: 18 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-sigterm-'));
  await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('sync --local stopped by SIGTERM mid-download', () => {
  it('stops, leaves no server behind, and the next run completes the archive', async () => {
    const data = join(dir, 'data');
    const args = [
      'sync',
      '--json',
      '--local',
      data,
      '--session-file',
      join(dir, 'session.json'),
      '--endpoint',
      sim.controlUrl,
    ];
    await control.injectFault({ endpoint: 'cdn', delayMs: 300 });
    await control.resetStats();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--concurrency', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    );
    for (let i = 0; i < 300 && ((await control.stats()).requests['cdn'] ?? 0) < 8; i++) await sleep(100);
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    await control.clearFaults();
    expect({ code, signal }, err).toEqual({ code: 143, signal: null });
    expect(err.trim().split('\n'), err).toEqual([expect.stringMatching(/^✖ Interrupted (after|before) /)]);
    expect(JSON.parse(out)).toMatchObject({
      status: 'error',
      error: {
        code: 'interrupted',
        hint: 'Run npx icloud-s3 sync again: it continues where this run stopped.',
      },
      exitCode: 143,
    });
    // The s3rver child exits once its parent is gone (it watches the IPC channel).
    let left: string[] = [];
    for (let i = 0; i < 50; i++) {
      left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes(data));
      if (left.length === 0) break;
      await sleep(200);
    }
    expect(left).toEqual([]);

    const next = await runCli([...args]);
    expect(next.code, next.stderr).toBe(0);
    const truth = (await control.library<{ assets: TruthAsset[] }>()).assets;
    const digests = (await readLocalArchive(data)).map((o) => o.metadata['icloud-sha256']);
    expect(new Set(digests)).toEqual(expectedDigests(truth));
  });
});
