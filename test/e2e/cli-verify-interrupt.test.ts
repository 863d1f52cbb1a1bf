/**
 * Ctrl-C during `icloud-s3 verify`: one line saying what it was doing and that verify changed
 * nothing, exit 130, and (with --json) the one error object with the `interrupted` code whose hint
 * is the same command to run again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { CLI_ENTRY, runCli } from '#test/helpers/run-cli.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-verify-interrupt-'));
  await signInToSimulator(sim, join(dir, 'session.json'));
  const sync = await runCli([
    'sync',
    '--local',
    join(dir, 'data'),
    '--session-file',
    join(dir, 'session.json'),
  ]);
  expect(sync.code, sync.stderr).toBe(0);
});

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('icloud-s3 verify interrupted by SIGINT', () => {
  it('says what it was doing and that it changed nothing, and exits 130', async () => {
    // A slow listing: the signal lands while verify waits on iCloud.
    await control.injectFault({ endpoint: 'records/query', delayMs: 3000 });
    await control.resetStats();
    const args = [
      'verify',
      '--json',
      '--local',
      join(dir, 'data'),
      '--session-file',
      join(dir, 'session.json'),
    ];
    const started = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
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
    for (let i = 0; i < 300 && ((await control.stats()).requests['records/query'] ?? 0) < 1; i++)
      await sleep(100);
    started.kill('SIGINT');
    const code = await exited;
    await control.clearFaults();

    expect(code, stderr).toBe(130);
    const line = stderr.trim().split('\n').pop() ?? '';
    expect(line).toMatch(
      /^✖ Interrupted while listing iCloud( \(\d+ photos so far\))?: verify changed nothing\.$/,
    );
    expect(JSON.parse(stdout)).toEqual({
      status: 'error',
      error: {
        code: 'interrupted',
        message: line.slice(2),
        hint: `Run npx icloud-s3 ${args.join(' ')} again.`,
      },
      exitCode: 130,
    });
  });
});
