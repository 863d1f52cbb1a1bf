/**
 * `status` after a `sync` that was killed (SIGKILL: a closed laptop lid, an
 * OOM kill) once detection had walked the library and while the downloads ran. The library's
 * tokens moved on, the work still queued died with the in-memory queue; the next `sync` re-walks
 * (its `sync-in-progress` marker) and finishes. Until then `status` must not read as complete:
 * it said every zone was "caught up", the last run "succeeded", and nothing of the unfinished run.
 * Now it says the last sync did not finish (`unfinishedSync`), and no zone is caught up until a
 * sync finishes (finding 56).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(process.cwd(), 'bin', 'icloud-s3.mjs');
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;

async function countFiles(root: string): Promise<number> {
  if (!existsSync(root)) return 0;
  // The store renames files while it is read: a failed listing counts as none yet.
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('._S3rver_object')).length;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 400, seed: 13, mediaScale: 0.05 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-status-killed-'));
  await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('status after a sync killed mid-download says work is left', async () => {
  const local = join(dir, 'archive');
  const common = [
    '--local',
    local,
    '--session-file',
    join(dir, 'session.json'),
    '--endpoint',
    sim.controlUrl,
  ];
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [CLI, 'sync', ...common, '--json'], {
    stdio: 'ignore',
    detached: true,
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const objects = join(local, 'aws', 's3', 'icloud-s3-archive', 'library');
    for (let i = 0; i < 600 && (await countFiles(objects)) < 150; i++)
      await new Promise((r) => setTimeout(r, 100));
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    await exited;
  }
  expect(existsSync(join(local, 'sync-in-progress'))).toBe(true);

  const run = await cli(['status', ...common, '--json']);
  const status = JSON.parse(run.stdout) as {
    zones: { progress: string }[];
    firstSyncInProgress: boolean;
    manifest: { entries: number };
    runs: { outcome: string }[];
    unfinishedSync: { since: string | null; action: string } | null;
  };
  const shown = {
    zones: status.zones.map((z) => z.progress),
    firstSyncInProgress: status.firstSyncInProgress,
    archivedEntries: status.manifest.entries,
    libraryAssets: 400,
    runs: status.runs.map((r) => r.outcome),
  };
  const saysWorkLeft =
    status.firstSyncInProgress ||
    status.zones.some((z) => z.progress !== 'caughtUp') ||
    status.runs.some((r) => r.outcome !== 'succeeded') ||
    JSON.stringify(status).includes('did not finish') ||
    status.unfinishedSync !== null;
  expect(saysWorkLeft, `status after the killed sync: ${JSON.stringify(shown)}`).toBe(true);
  expect(status.unfinishedSync).toMatchObject({ action: 'icloud-s3 sync' });
  // The killed sync's start: not before it was spawned (to the second), however long it ran.
  expect(Date.parse(status.unfinishedSync?.since ?? '')).toBeGreaterThanOrEqual(spawnedAt - 1_000);
  expect(status.zones.map((z) => z.progress)).not.toContain('caughtUp');

  const text = await cli(['status', ...common]);
  expect(text.stdout).toContain('last sync unfinished');

  // The next sync finishes: status reads as complete again.
  expect((await cli(['sync', ...common, '--json'])).code).toBe(0);
  const after = JSON.parse((await cli(['status', ...common, '--json'])).stdout) as typeof status;
  expect(after.unfinishedSync).toBeNull();
  expect(after.zones.map((z) => z.progress)).toEqual(['caughtUp', 'caughtUp']);
  expect(after.manifest.entries).toBeGreaterThan(status.manifest.entries);
}, 300_000);
