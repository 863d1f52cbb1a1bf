/**
 * A session remembers the endpoint it was signed in against, and commands use it when no
 * `--endpoint` is given: a simulator's session no longer sends `library` or `verify` to Apple.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;

function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { ICLOUD_ENDPOINT: _chosen, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { env: { ...env, NO_COLOR: '1', XDG_CONFIG_HOME: join(dir, 'config') } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 8, seed: 9 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-endpoint-'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the session's endpoint", () => {
  it('is used when --endpoint is not given', async () => {
    const sessionFile = join(dir, 'session.json');
    await signInToSimulator(sim, sessionFile);
    const { code, stdout, stderr } = await cli(['library', '--session-file', sessionFile, '--json']);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout).status).toBe('ok');
  });

  it("names the stopped simulator when it is not a demo's (nothing to start again)", async () => {
    const sessionFile = join(dir, 'stale.json');
    const now = Date.now();
    await writeFile(
      sessionFile,
      JSON.stringify({
        schemaVersion: 1,
        appleId: 'someone@example.com',
        clientId: 'auth-00000000-0000-4000-8000-000000000000',
        endpoint: 'http://127.0.0.1:9/__sim',
        cookies: [],
        createdAt: now,
        updatedAt: now,
      }),
    );
    const { code, stdout } = await cli(['library', '--session-file', sessionFile, '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).error.message).toContain(
      'signed in against the simulator at http://127.0.0.1:9/__sim, which is not running',
    );
  });
});
