/**
 * Ctrl-C during `icloud-s3 sync`: one line saying how far the run got, exit 130, and (with
 * --json) the one error object with the `interrupted` code.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 40, seed: 29 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-interrupt-'));
  await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('icloud-s3 sync interrupted by SIGINT', () => {
  it('prints one line of what was done so far and exits 130', async () => {
    // Slow downloads: the signal lands while most of the queue is still waiting.
    await control.injectFault({ endpoint: 'cdn', delayMs: 300 });
    await control.resetStats();
    const started = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'sync',
        '--json',
        '--concurrency',
        '1',
        '--local',
        join(dir, 'data'),
        '--session-file',
        join(dir, 'session.json'),
        '--endpoint',
        sim.controlUrl,
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    child = started;
    let stdout = '';
    let stderr = '';
    started.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    // Items count as each is archived (test/e2e/sync-progress-items.test.ts): wait until some can
    // be, well before the ~50 downloads of the library. On a loaded machine the uploads and state
    // writes trail the downloads, so give them a moment as well.
    for (let i = 0; i < 300 && ((await control.stats()).requests['cdn'] ?? 0) < 30; i++) await sleep(100);
    await sleep(600);
    started.kill('SIGINT');
    const code = await exited;
    await control.clearFaults();

    expect(code, stderr).toBe(130);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^✖ Interrupted after \d+ of \d+ items \([\d.]+ [kM]?B archived\): run npx icloud-s3 sync again to continue\.$/,
      ),
    ]);
    expect(JSON.parse(stdout)).toEqual({
      status: 'error',
      error: {
        code: 'interrupted',
        message: stderr.trim().slice(2),
        hint: 'Run npx icloud-s3 sync again: it continues where this run stopped.',
      },
      exitCode: 130,
    });
  });
});
