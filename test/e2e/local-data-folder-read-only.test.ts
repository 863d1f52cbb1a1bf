/**
 * A data folder the process cannot write (a read-only NAS share or snapshot, a backup restored
 * read-only; here a read-only bind mount in a user+mount namespace, EROFS; skipped where
 * `unshare -rm` is not allowed). The command says the folder cannot be written, with its own
 * code (`folder-not-writable`), never that the state is damaged and should be moved aside: done
 * on a healthy folder, that throws away the sync tokens, the Shared Albums' state, the failed
 * photos' retries and the sign-in latch (reliability finding 107).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;

const canUnshare =
  spawnSync('unshare', ['-rm', 'sh', '-c', 'mount --bind /tmp /tmp && mount -o remount,ro,bind /tmp'], {
    stdio: 'ignore',
  }).status === 0;

function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'unshare',
      ['-rm', 'sh', '-c', script],
      { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6, seed: 16 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-read-only-'));
  const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  const summary = await runLocalSync({
    dataDir: join(dir, 'data'),
    ...signedIn,
    logger: createLogger({ level: 'SILENT' }),
  });
  expect(summary.outcome).toBe('succeeded');
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!canUnshare)('a read-only data folder', () => {
  it.each(['sync', 'status'])(
    '%s --local says it cannot write there, not that the state is damaged',
    async (command) => {
      const data = join(dir, 'data');
      const run = await sh(
        [
          `mount --bind ${data} ${data}`,
          `mount -o remount,ro,bind ${data}`,
          `exec ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(CLI)} ${command} --json --local ${data} --session-file ${JSON.stringify(join(dir, 'session.json'))} --endpoint ${sim.controlUrl}`,
        ].join(' && '),
      );
      const said = `exit ${run.code}\nstdout: ${run.stdout.slice(0, 1500)}\nstderr: ${run.stderr.slice(0, 1500)}`;
      expect(`${run.stdout}${run.stderr}`, said).not.toMatch(/it is damaged|Move it aside/);
      const result = JSON.parse(run.stdout) as { error: { code: string; message: string; hint: string } };
      expect({ code: run.code, error: result.error.code }, said).toEqual({
        code: 1,
        error: 'folder-not-writable',
      });
      expect(result.error.message, said).toMatch(/read-only file system/);
      expect(result.error.message, said).toMatch(/leave it where it is/);
    },
  );
});
