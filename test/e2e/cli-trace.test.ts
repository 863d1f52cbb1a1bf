import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceInteraction } from '#shared/trace-redaction.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { runCliLogin } from '#test/helpers/cli-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const repositoryRoot = join(import.meta.dirname, '..', '..');
let sim: SimulatorHandle;
let control: ControlClient;
let dir: string;
let sessionFile: string;

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command other than login against the simulator, with the session login stored. */
function cli(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['bin/icloud-s3.mjs', ...args, '--endpoint', sim.controlUrl, '--session-file', sessionFile, '--json'],
      { cwd: repositoryRoot, stdio: 'pipe' },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `icloud-s3 login` as a person's script answers it (test/helpers/cli-login.ts). */
const login = (args: readonly string[], env: Record<string, string> = {}) =>
  runCliLogin(sim, control, ['--session-file', sessionFile, '--json', ...args], env);

interface Trace {
  readonly source: string;
  readonly interactions: TraceInteraction[];
}

const readTrace = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Trace;

/** Every string in a JSON value. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The query values of every CDN URL in `text` (plain or JSON-escaped). */
function cdnQueryValues(text: string): string[] {
  const urls = text.match(/https?:(?:\/\/|\\\/\\\/)[^\s"'\\]*icloud-content\.com[^\s"']*/g) ?? [];
  return urls.flatMap((url) =>
    (url.split('?')[1] ?? '').split('&').map((pair) => pair.slice(pair.indexOf('=') + 1)),
  );
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-cli-trace-'));
  sessionFile = join(dir, 'session.json');
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('icloud-s3 --trace', () => {
  it('login --trace writes a 0600 trace of the whole sign-in without the password, the code or the stored tokens', async () => {
    const tracePath = join(dir, 'login-trace.json');
    const run = await login(['--trace', tracePath]);
    expect(run.code, run.stderr).toBe(0);
    expect((await stat(tracePath)).mode & 0o777).toBe(0o600);

    const text = await readFile(tracePath, 'utf8');
    const trace = JSON.parse(text) as Trace;
    expect(run.stderr).toContain(
      `Trace: ${trace.interactions.length} exchange(s) with Apple in ${tracePath}`,
    );
    expect(trace.source).toMatch(/^icloud-s3 \d+\.\d+\.\d+ login --trace on Node v\d+\S*, started \d{4}-/);
    const steps = trace.interactions.map((i) => `${i.request.method} ${new URL(i.request.uri).pathname}`);
    const milestones = [
      'POST /appleauth/auth/signin/init',
      'POST /appleauth/auth/signin/complete',
      'PUT /appleauth/auth/verify/trusteddevice/securitycode',
      'POST /appleauth/auth/verify/trusteddevice/securitycode',
      'POST /setup/ws/1/accountLogin',
    ];
    // In this order, whatever other steps the sign-in takes in between.
    let next = 0;
    for (const step of steps) if (step === milestones[next]) next++;
    expect(milestones.slice(next), `steps were:\n${steps.join('\n')}`).toEqual([]);
    expect(steps.at(-1)).toBe('POST /setup/ws/1/accountLogin');

    // What the login stored is exactly what must not be in the trace.
    const stored = JSON.parse(await readFile(sessionFile, 'utf8')) as {
      cookies: { key: string; value: string }[];
      [field: string]: unknown;
    };
    const secrets = [
      sim.password,
      sim.appleId,
      ...stored.cookies.map((c) => c.value.replace(/^"(.*)"$/, '$1')).filter((v) => v.length >= 8),
      ...['scnt', 'sessionId', 'sessionToken', 'trustToken', 'authAttributes', 'dsid'].map((f) =>
        String(stored[f]),
      ),
    ];
    for (const secret of secrets) {
      expect(text, `leaked ${secret.slice(0, 5)}…`).not.toContain(secret);
      expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
    const codes = run.typed.filter((line) => line !== '');
    expect(codes).toHaveLength(1);
    for (const code of codes) expect(text).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
  });

  it('a login Apple refuses still leaves a complete trace, without the wrong password', async () => {
    const tracePath = join(dir, 'refused-trace.json');
    const wrong = 'Not-The-Password-42!';
    const run = await login(['--force', '--trace', tracePath], { ICLOUD_PASSWORD: wrong });
    expect(run.code).toBe(4);
    const text = await readFile(tracePath, 'utf8');
    const trace = JSON.parse(text) as Trace;
    expect(trace.interactions.map((i) => `${new URL(i.request.uri).pathname} ${i.response.status}`)).toEqual([
      '/appleauth/auth/signin/init 200',
      '/appleauth/auth/signin/complete 401',
    ]);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(sim.password);
  });

  it('sync --local --trace records CDN downloads by size and type, with no signed parameter and no body byte', async () => {
    const tracePath = join(dir, 'sync-trace.json');
    const run = await cli(['sync', '--local', join(dir, 'archive'), '--trace', tracePath]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { bytesArchived: number };
    expect(summary.bytesArchived).toBeGreaterThan(0);

    const text = await readFile(tracePath, 'utf8');
    const trace = JSON.parse(text) as Trace;
    const downloads = trace.interactions.filter((i) =>
      new URL(i.request.uri).hostname.endsWith('icloud-content.com'),
    );
    expect(downloads.length).toBeGreaterThan(0);
    for (const download of downloads) {
      expect(download.response.status).toBe(200);
      expect(download.response.body).toEqual({
        text: expect.stringMatching(/^<\d+ bytes of [a-z]+\/[\w.+-]+ not recorded>$/),
      });
    }
    // Every CDN URL, in a request or inside a CloudKit answer, keeps only its parameters' names.
    const values = cdnQueryValues(text);
    expect(values.length).toBeGreaterThan(downloads.length);
    for (const value of values) expect(value).toMatch(/^(<redacted:cdn-param#\d+ \d+ (chars|bytes)>|)$/);
    // The downloadURLs CloudKit handed out were there, redacted, before the downloads used them.
    const handedOut = trace.interactions
      .flatMap((i) => stringsIn(i.response.body))
      .filter((s) => s.includes('icloud-content.com'));
    expect(handedOut.length).toBeGreaterThan(0);
    expect(handedOut).toContain(downloads[0]?.request.uri);
  });

  it('library --trace records the CloudKit requests of the count', async () => {
    const tracePath = join(dir, 'library-trace.json');
    const run = await cli(['library', '--trace', tracePath]);
    expect(run.code, run.stderr).toBe(0);
    const trace = await readTrace(tracePath);
    const paths = trace.interactions.map((i) => new URL(i.request.uri).pathname);
    expect(paths.some((p) => p.endsWith('/zones/list'))).toBe(true);
    expect(trace.interactions.every((i) => !/dsid=\d/.test(i.request.uri))).toBe(true);
  });
});
