/**
 * `status` while a local `sync` runs: its `sync-in-progress` marker names a live process. `status`
 * read any marker as "the last sync did not finish" and told the person to run `sync` beside the
 * running one. A live holder means a sync is running (`syncRunning`); a dead one keeps "did not
 * finish" (finding 56; local-sync.ts tells the two apart the same way, `markerHolderAlive`).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const CLI = join(process.cwd(), 'bin', 'icloud-s3.mjs');
let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An archive folder whose marker names `pid`, started `since`. */
async function archiveWithMarker(name: string, since: string, pid: number): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), 'icloud-s3-status-running-'));
  const local = join(dir, name);
  await mkdir(join(local, 'aws'), { recursive: true });
  await writeFile(join(local, 'sync-in-progress'), `${since}\n${pid}\n`);
  return local;
}

function status(local: string, json: boolean): Promise<string> {
  return new Promise((resolve) => {
    const args = [CLI, 'status', '--local', local, ...(json ? ['--json'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const add = (c: Buffer) => {
      out += c.toString();
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    child.on('exit', () => resolve(out));
  });
}

/** The PID of a process that has exited: a killed sync's. */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('exit', () => resolve(child.pid!));
  });
}

it('status while a sync runs says it is running, not that the last one did not finish', async () => {
  const since = new Date().toISOString();
  // A sync under way: its marker names a live process (this one).
  const local = await archiveWithMarker('running', since, process.pid);
  const json = JSON.parse(await status(local, true)) as {
    unfinishedSync: unknown;
    syncRunning: unknown;
    zones: { progress: string }[];
  };
  expect(json.unfinishedSync).toBeNull();
  expect(json.syncRunning).toEqual({ since });
  expect(json.zones.filter((z) => z.progress === 'syncUnfinished')).toEqual([]);
  const text = await status(local, false);
  expect(text).toMatch(/A sync is running/);
  expect(text).not.toMatch(/did not finish|run icloud-s3 sync/);
});

it('status after a sync whose process is gone still says it did not finish', async () => {
  const local = await archiveWithMarker('killed', new Date().toISOString(), await deadPid());
  const json = JSON.parse(await status(local, true)) as { unfinishedSync: unknown; syncRunning: unknown };
  expect(json.unfinishedSync).toMatchObject({ action: 'icloud-s3 sync' });
  expect(json.syncRunning).toBeNull();
  expect(await status(local, false)).toMatch(/The last sync did not finish/);
});
