/**
 * A local archive a crash corrupted (issue 11, item 4): SIGKILL of `sync` mid-write left a
 * 0-byte `…_S3rver_metadata.json`, and every later `status` and `sync` failed with
 * "UnknownError", exit 1. The local S3 now repairs the store on start and names the key, and
 * `verify --repair` archives the object it had to drop again. `status` and an idle `sync` read
 * only the state and never start the local S3 (issue 12): the first command that reads the
 * archive's objects (`verify` here) repairs the store and names what it dropped.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
const METADATA_SUFFIX = '._S3rver_metadata.json';
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
let dataDir: string;
let sessionFile: string;
let signedIn: SignedIn;
let victim: string;

function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6, seed: 11 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-crash-repair-'));
  dataDir = join(dir, 'data');
  sessionFile = join(dir, 'session.json');
  signedIn = await signInToSimulator(sim, sessionFile);
  await runLocalSync({ ...LIBRARY_ONLY, dataDir, ...signedIn, logger: createLogger({ level: 'SILENT' }) });
  // What the crash left: one object's metadata file, truncated to nothing.
  const s3 = join(dataDir, 'aws', 's3');
  const entries = await readdir(s3, { recursive: true, withFileTypes: true });
  const metadata = entries.find((e) => e.isFile() && e.name.endsWith(METADATA_SUFFIX));
  if (metadata === undefined) throw new Error('the sync archived nothing');
  const file = join(metadata.parentPath, metadata.name);
  const [, ...key] = relative(s3, file).slice(0, -METADATA_SUFFIX.length).split('/');
  victim = key.join('/');
  await writeFile(file, '');
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a local archive with a metadata file a crash emptied', () => {
  it('status succeeds: it reads the state, not the damaged store', async () => {
    const { code, stdout, stderr } = await cli([
      'status',
      '--local',
      dataDir,
      '--session-file',
      sessionFile,
      '--json',
    ]);
    expect(stderr).not.toContain('UnknownError');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).status).toBe('ok');
  });

  it('the next sync runs, and verify names the object the repair dropped and reports it missing', async () => {
    await runLocalSync({ ...LIBRARY_ONLY, dataDir, ...signedIn, logger: createLogger({ level: 'SILENT' }) });
    const { code, stdout, stderr } = await cli([
      'verify',
      '--local',
      dataDir,
      '--endpoint',
      sim.controlUrl,
      '--session-file',
      sessionFile,
      '--json',
    ]);
    const report = JSON.parse(stdout) as { missing: { key: string }[] };
    expect(stderr).toContain('dropped ');
    expect(stderr).toContain(victim);
    expect(report.missing).toEqual([expect.objectContaining({ key: victim })]);
    expect(code).toBe(5);
  });

  it('one verify --repair archives the dropped object again, and the next verify is clean', async () => {
    const args = [
      'verify',
      '--local',
      dataDir,
      '--endpoint',
      sim.controlUrl,
      '--session-file',
      sessionFile,
      '--json',
    ];

    const repaired = await cli([...args, '--repair']);
    const after = await cli(args);

    expect(JSON.parse(repaired.stdout).repair).toMatchObject({
      requeued: [expect.objectContaining({ objects: [{ key: victim, reason: 'missing' }] })],
      left: 0,
    });
    expect(repaired.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, missing: [], extra: [] });
    expect(after.code).toBe(0);
  });
});
