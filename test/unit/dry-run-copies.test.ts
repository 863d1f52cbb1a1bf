/**
 * Which leftover copies of the state a dry run removes (compose/dry-run-copies.ts): those whose
 * process is gone, of this machine only.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { dryRunCopyPrefix, removeDeadDryRunCopies } from '#compose/dry-run-copies.ts';

let folder: string | undefined;
afterEach(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** The id of a process that ran and was killed by SIGKILL (gone by the time this resolves). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return child.pid ?? 0;
}

it('removes the copies of dead dry runs of this machine and leaves every other', async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'icloud-s3-sweep-'));
  const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const own = `${path.basename(dryRunCopyPrefix(folder))}aaaaaa`;
    const machine = own.split('-')[4];
    const dead = `icloud-s3-dry-run-${machine}-${await deadPid()}-bbbbbb`;
    const running = `icloud-s3-dry-run-${machine}-${live.pid}-cccccc`;
    const otherMachine = `icloud-s3-dry-run-00000000-${await deadPid()}-dddddd`;
    const unnamed = 'icloud-s3-dry-run-eeeeee'; // made before copies were named for their process
    for (const name of [own, dead, running, otherMachine, unnamed]) await mkdir(path.join(folder, name));

    const removed = await removeDeadDryRunCopies(folder);

    expect(removed).toEqual([dead]);
    expect((await readdir(folder)).sort()).toEqual([own, running, otherMachine, unnamed].sort());
  } finally {
    live.kill('SIGKILL');
  }
});
