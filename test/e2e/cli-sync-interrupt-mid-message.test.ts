/**
 * Ctrl-C while a work message is half done: the photos of it already archived are in the line
 * `sync` prints. The library is one message (six photos); its first download trickles, so the
 * message cannot finish before the signal while the other photos are archived.
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
  sim = await startTestSimulator({ assets: 6, seed: 13 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-interrupt-mid-'));
  await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('icloud-s3 sync interrupted in the middle of a work message', () => {
  it('counts the photos of the message already archived', async () => {
    // The first download trickles for a minute: its message (the whole library) stays unfinished.
    await control.injectFault({
      endpoint: 'cdn',
      mode: 'slow-body',
      chunkBytes: 64,
      chunkDelayMs: 250,
      count: 1,
    });
    await control.resetStats();
    const started = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'sync',
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
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    // Every photo's download asked for (six originals at least), then a moment for their uploads
    // and manifest entries; the trickling one takes far longer.
    for (let i = 0; i < 300 && ((await control.stats()).requests['cdn'] ?? 0) < 6; i++) await sleep(100);
    await sleep(1_500);
    started.kill('SIGINT');
    const code = await exited;
    await control.clearFaults();

    expect(code, stderr).toBe(130);
    const line = stderr.trim();
    const counted = /^✖ Interrupted after (\d+) of (\d+) items \([\d.]+ [kM]?B archived\)/.exec(line);
    expect(counted, line).not.toBeNull();
    const [done, found] = [Number(counted?.[1]), Number(counted?.[2])];
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(found);
  });
});
