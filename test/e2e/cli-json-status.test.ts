/**
 * Every command's `--json` result against the one `status` vocabulary (io/result-status.ts): run
 * as a person's script runs them, in order (sign in, dry run, sync, idle sync, status, verify,
 * a change in iCloud, verify, repair, library, debug records, local serve, the demo) and on cheap
 * failure paths, each result's `status` is a word of the vocabulary, the command is one that
 * answers it, and the exit code is the word's (for `error`, the result's own `exitCode`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isResultStatus, RESULT_STATUS, type ResultStatus } from '#cli/io/result-status.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { runCliLogin } from '#test/helpers/cli-login.ts';
import { CLI_ENTRY, type CliRun, runCli } from '#test/helpers/run-cli.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const RECORDED = join(ROOT, 'test/fixtures/recorded/icloudpd/listing_videos.json');

let sim: SimulatorHandle;
let control: ControlClient;
let dir: string;
let where: string[];

/** The last stdout line, as the result object. */
function resultOf(run: { stdout: string; stderr: string }): Record<string, unknown> {
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`no JSON result on stdout:\n${run.stdout}\n${run.stderr}`);
  }
}

/** `result` keeps the vocabulary: a known word, answered by `command`, with the word's exit code. */
function expectInVocabulary(command: string, result: Record<string, unknown>, exit: number | null): void {
  const word = result['status'];
  expect(isResultStatus(word), `${command}: status ${String(word)}`).toBe(true);
  const meaning = RESULT_STATUS[word as ResultStatus];
  const commands: readonly string[] = meaning.commands;
  expect(commands.includes('*') || commands.includes(command), `${command} answers ${String(word)}`).toBe(
    true,
  );
  if (meaning.exit === 'exitCode') {
    expect(result['exitCode']).toBe(exit);
    expect(exit).not.toBe(0);
  } else {
    expect(exit, `${command}: ${String(word)} exits ${meaning.exit}`).toBe(meaning.exit);
  }
}

async function expectStatus(command: string, run: CliRun, status: ResultStatus): Promise<void> {
  const result = resultOf(run);
  expect(result['status'], `${command}\n${run.stdout}\n${run.stderr}`).toBe(status);
  expectInVocabulary(command, result, run.code);
}

const cli = (args: readonly string[]) => runCli([...args, '--json']);

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `local serve --json`: its first line, then its exit code once stopped with Ctrl-C. */
function serveOnce(args: readonly string[]): Promise<{ first: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI_ENTRY, 'local', 'serve', ...args, '--json'],
      {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) child.kill('SIGINT');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ first: stdout.split('\n')[0] ?? '', code }));
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-status-words-'));
  where = ['--local', join(dir, 'archive'), '--session-file', join(dir, 'session.json')];
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('status in every --json result', () => {
  it('login: signed-in, then already-signed-in', async () => {
    const first = await runCliLogin(sim, control, ['--json', '--session-file', join(dir, 'session.json')]);
    await expectStatus('login', { ...first, code: first.code ?? -1 }, 'signed-in');
    const again = await runCliLogin(sim, control, ['--json', '--session-file', join(dir, 'session.json')]);
    await expectStatus('login', { ...again, code: again.code ?? -1 }, 'already-signed-in');
  });

  it('sync: dryRun, succeeded, idle; status: ok; verify: ok', async () => {
    await expectStatus('sync', await cli(['sync', '--dry-run', ...where]), 'dryRun');
    await expectStatus('sync', await cli(['sync', ...where]), 'succeeded');
    await expectStatus('sync', await cli(['sync', ...where]), 'idle');
    await expectStatus('status', await cli(['status', ...where]), 'ok');
    await expectStatus('verify', await cli(['verify', ...where]), 'ok');
  });

  it('verify: differences (exit 5), then repaired by --repair, then ok', async () => {
    await control.call('POST', '/mutate', { op: 'add', kind: 'photo', count: 1 });
    const found = await cli(['verify', ...where]);
    await expectStatus('verify', found, 'differences');
    // The person is told the next step: the same command with --repair.
    expect(found.stderr).toContain(`Run: npx icloud-s3 verify ${where.join(' ')} --json --repair`);
    await expectStatus('verify', await cli(['verify', '--repair', ...where]), 'repaired');
    await expectStatus('verify', await cli(['verify', ...where]), 'ok');
  });

  it('library and debug records: ok', async () => {
    await expectStatus('library', await cli(['library', '--session-file', join(dir, 'session.json')]), 'ok');
    const records = await cli(['debug', 'records', RECORDED]);
    await expectStatus('debug records', records, 'ok');
    expect(resultOf(records)['recordLists']).toEqual(expect.any(Array));
  });

  it('local serve: serving, and exit 0 on Ctrl-C', async () => {
    const { first, code } = await serveOnce(['--local', join(dir, 'archive')]);
    const line = JSON.parse(first) as Record<string, unknown>;
    expect(line).toMatchObject({ status: 'serving', bucket: 'icloud-s3-archive' });
    expectInVocabulary('local serve', line, code);
  });

  it("the demo's lines carry the sync words", async () => {
    const demo = await cli(['demo', '--dir', join(dir, 'demo'), '--assets', '5']);
    expect(demo.code, demo.stderr).toBe(0);
    const lines = demo.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => [l['run'], l['status']])).toEqual([
      ['initial', 'succeeded'],
      ['afterChanges', 'succeeded'],
      ['unchanged', 'idle'],
    ]);
    for (const line of lines) {
      expect(line['status']).toBe(line['outcome']);
      expectInVocabulary('demo', line, 0);
    }
  });

  it('failures: error, with the exit code the result states', async () => {
    const noArchive = await cli(['status', '--local', join(dir, 'none')]);
    await expectStatus('status', noArchive, 'error');
    const port = await closedPort();
    await expectStatus(
      'library',
      await cli([
        'library',
        '--session-file',
        join(dir, 'none.json'),
        '--endpoint',
        `http://127.0.0.1:${port}/__sim`,
      ]),
      'error',
    );
    await expectStatus('login', await cli(['login', '--session-file', join(dir, 'none.json')]), 'error');
    await expectStatus('debug records', await cli(['debug', 'records', join(dir, 'none.json')]), 'error');
    await expectStatus('sync', await cli(['sync', '--concurrency', '0']), 'error');
  });
});
