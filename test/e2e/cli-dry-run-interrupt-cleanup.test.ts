/**
 * `sync --dry-run` plans over a copy of the local state made in the temporary folder
 * (compose/local-dry-run.ts), removed by `close()`. Ctrl-C made `exitOnInterrupt`
 * (cli/io/interrupt.ts) call `process.exit(130)` at once: `close()` never ran, and a full copy of
 * the state stayed in the temporary folder, one per interrupted dry run. Now Ctrl-C runs the
 * registered cleanups first (bounded), and the copy is also removed at process exit (finding 58).
 * A dry run killed outright (SIGKILL, the OOM killer, a power cut) runs nothing: the next dry run
 * removes the copies of dry runs whose process is gone, and only those.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(process.cwd(), 'bin', 'icloud-s3.mjs');
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
let signedIn: SignedIn;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 300, seed: 7 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-dry-interrupt-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  await runLocalSync({
    dataDir: join(dir, 'archive'),
    ...signedIn,
    logger: createLogger({ level: 'SILENT' }),
  });
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('Ctrl-C during sync --dry-run leaves no copy of the state behind', async () => {
  const childTmp = join(dir, 'tmp');
  await mkdir(childTmp);
  const copies = async () => (await readdir(childTmp)).filter((n) => n.startsWith('icloud-s3-dry-run-'));
  const args = [
    'sync',
    '--dry-run',
    '--local',
    join(dir, 'archive'),
    '--session-file',
    join(dir, 'session.json'),
  ];
  // Every answer from Apple slowed, so the dry run is still planning when Ctrl-C comes (an idle
  // dry run of this library can end within the wait below on a quiet machine).
  await controlClient(sim).injectFault({ endpoint: '*', delayMs: 2_000 });
  const child = spawn(process.execPath, [CLI, ...args, '--endpoint', sim.controlUrl, '--json'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, TMPDIR: childTmp },
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // The copy is made after the Ctrl-C handler is installed: waited for without a short bound, since
  // a loaded machine can take many seconds to start the CLI (a Ctrl-C before the handler kills it).
  const waitUntil = Date.now() + 60_000;
  while ((await copies()).length === 0 && child.exitCode === null && Date.now() < waitUntil)
    await new Promise((r) => setTimeout(r, 20));
  expect(await copies(), 'the dry run made its copy of the state').toHaveLength(1);
  await new Promise((r) => setTimeout(r, 300)); // planning under way
  child.kill('SIGINT');
  const code = await exited;

  expect(code).toBe(130);
  expect(stdout).toContain('"interrupted"');
  expect(await copies()).toEqual([]);
});

it('the next dry run removes the copy a SIGKILLed dry run left, and never a running dry run’s', async () => {
  const childTmp = join(dir, 'tmp-killed');
  await mkdir(childTmp);
  const copies = async () =>
    (await readdir(childTmp)).filter((n) => n.startsWith('icloud-s3-dry-run-')).sort();
  const args = [
    'sync',
    '--dry-run',
    '--local',
    join(dir, 'archive'),
    '--session-file',
    join(dir, 'session.json'),
    '--endpoint',
    sim.controlUrl,
    '--json',
  ];
  const control = controlClient(sim);
  await control.clearFaults();
  // Every answer from Apple held back long: each dry run is still planning, its copy in place,
  // until it is stopped.
  await control.injectFault({ endpoint: '*', delayMs: 20_000 });
  const started: ChildProcess[] = [];
  /** A dry run, once its copy of the state is made (resolves the copy's name). */
  const dryRun = async () => {
    const before = new Set(await copies());
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: 'ignore',
      env: { ...process.env, TMPDIR: childTmp },
    });
    started.push(child);
    for (let i = 0; i < 500; i++) {
      const made = (await copies()).filter((n) => !before.has(n));
      if (made.length > 0) return { child, copy: made[0] };
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the dry run made no copy of the state');
  };
  const exitOf = (child: ChildProcess) =>
    new Promise<void>((r) =>
      child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r()),
    );
  try {
    const killed = await dryRun();
    killed.child.kill('SIGKILL');
    await exitOf(killed.child);
    expect(await copies()).toEqual([killed.copy]); // nothing ran: the copy stays, for now

    const next = await dryRun();
    expect(await copies()).toEqual([next.copy]);

    const beside = await dryRun(); // two at once: neither removes the other's
    expect(next.child.exitCode).toBeNull();
    expect(await copies()).toEqual([next.copy, beside.copy].sort());
  } finally {
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exitOf(child);
    }
    await control.clearFaults();
  }
});
