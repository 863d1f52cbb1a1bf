/**
 * Text from Apple never leaves the process or lands in state with a secret in it: an item fails
 * with a reason carrying a signed URL (JSON-escaped), a Set-Cookie pair, a bare token and an Apple
 * ID, and none of them is in `sync --json`, the logs (`--verbose`), `status --json` (the run
 * record) or any file of the local state (the manifest's failure reason, the run record). The
 * same when the text stops the detection run: a refusal (the run record's message, `sync --json`).
 * (A 421 asking for a new sign-in never carries Apple's text: the session layer words it.)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');

const SIGNATURE = 'SigQ9xTz4Kp';
const COOKIE_VALUE = 'CookieVal8Rw2';
const BARE_TOKEN = 'AQABAAAAsT0kEnSeSsIoNbUgTkX93Zp4Lm8Qq2Rr';
const APPLE_ID_USER = 'jane.appleseed';
const SECRETS = [SIGNATURE, COOKIE_VALUE, BARE_TOKEN, APPLE_ID_USER];
/** Within the 200 characters of Apple's reason an error message keeps. */
const HOSTILE_REASON =
  `see https:\\/\\/cvws.icloud-content.com\\/B\\/AQ\\/f?o=Ak&s=${SIGNATURE} ` +
  `X-APPLE-WEBAUTH-TOKEN=${COOKIE_VALUE}; ${BARE_TOKEN} for ${APPLE_ID_USER}@example.com`;

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
let dataDir: string;
let sessionFile: string;
let sync: { code: number; stdout: string; stderr: string };

function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  expect(HOSTILE_REASON.length).toBeLessThanOrEqual(200);
  sim = await startTestSimulator({ assets: 4, seed: 21 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-scrub-'));
  dataDir = join(dir, 'data');
  sessionFile = join(dir, 'session.json');
  await signInToSimulator(sim, sessionFile);
  const control = controlClient(sim);
  // One download's URL has expired; its refresh is answered with Apple's text carrying secrets.
  await control.injectFault({ endpoint: 'cdn', status: 410, count: 1 });
  await control.injectFault({
    endpoint: 'records/lookup',
    status: 200,
    body: { serverErrorCode: 'BAD_REQUEST', reason: HOSTILE_REASON },
    count: 1,
  });
  sync = await cli([
    'sync',
    '--local',
    dataDir,
    '--session-file',
    sessionFile,
    '--endpoint',
    sim.controlUrl,
    '--json',
    '--verbose',
  ]);
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an item failing with a reason that carries secrets', () => {
  it('fails the item (the reason reached us)', () => {
    const summary = JSON.parse(sync.stdout);
    expect(summary.assets.failed).toBe(1);
    expect(summary.failures[0].reason).toContain('BAD_REQUEST');
  });

  it('keeps every secret out of sync --json and the logs', () => {
    for (const secret of SECRETS) {
      expect(sync.stdout).not.toContain(secret);
      expect(sync.stderr).not.toContain(secret);
    }
    expect(sync.stderr).toContain('BAD_REQUEST');
  });

  it('keeps every secret out of the run record (status --json)', async () => {
    const status = await cli(['status', '--local', dataDir, '--session-file', sessionFile, '--json']);
    expect(status.stdout).toContain('BAD_REQUEST');
    for (const secret of SECRETS) expect(status.stdout).not.toContain(secret);
  });

  it('keeps every secret out of the state store (manifest and run records)', async () => {
    const files = await filesUnder(dataDir);
    const state = files.filter((f) => !/[\\/](archive|s3|buckets?)[\\/]/.test(f));
    let sawReason = false;
    for (const file of state) {
      const bytes = (await readFile(file)).toString('latin1');
      if (bytes.includes('BAD_REQUEST')) sawReason = true;
      for (const secret of SECRETS) expect(bytes, file).not.toContain(secret);
    }
    expect(sawReason).toBe(true);
  });
});

describe.each([
  {
    name: 'a CloudKit refusal that stops detection',
    fault: { status: 200, body: { serverErrorCode: 'BAD_REQUEST', reason: HOSTILE_REASON } },
    expected: 'BAD_REQUEST',
  },
])('$name, carrying secrets', ({ fault, expected }) => {
  let stopped: { code: number; stdout: string; stderr: string };
  let stoppedDir: string;
  let stoppedSession: string;

  beforeAll(async () => {
    stoppedDir = await mkdtemp(join(tmpdir(), 'icloud-s3-scrub-stop-'));
    stoppedSession = join(stoppedDir, 'session.json');
    await signInToSimulator(sim, stoppedSession);
    await controlClient(sim).injectFault({ endpoint: 'records/query', ...fault });
    stopped = await cli([
      'sync',
      '--local',
      join(stoppedDir, 'data'),
      '--session-file',
      stoppedSession,
      '--endpoint',
      sim.controlUrl,
      '--json',
      '--verbose',
    ]);
  });

  afterAll(async () => {
    await controlClient(sim).clearFaults();
    if (stoppedDir) await rm(stoppedDir, { recursive: true, force: true });
  });

  it('says what Apple answered, without its secrets, in sync --json and the logs', () => {
    expect(stopped.code).not.toBe(0);
    expect(stopped.stdout).toContain(expected);
    for (const secret of SECRETS) {
      expect(stopped.stdout).not.toContain(secret);
      expect(stopped.stderr).not.toContain(secret);
    }
  });

  it('keeps every secret out of the run record and the state store', async () => {
    const status = await cli([
      'status',
      '--local',
      join(stoppedDir, 'data'),
      '--session-file',
      stoppedSession,
      '--json',
    ]);
    for (const secret of SECRETS) expect(status.stdout).not.toContain(secret);
    for (const file of await filesUnder(join(stoppedDir, 'data'))) {
      const bytes = (await readFile(file)).toString('latin1');
      for (const secret of SECRETS) expect(bytes, file).not.toContain(secret);
    }
  });
});
