/**
 * The repository's .npmrc and the scripts programs read. `npm run sim` prints the simulator's JSON
 * as its first stdout line (an interface others rely on), which needs npm's banner off: npm hides
 * it only at `loglevel=silent`. npm's own errors stay one flag away (`--loglevel=warn`, which
 * .ci/run passes), as README.md says.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
/** This process's environment without a parent npm's loglevel (`npm test -s` exports silent): the .npmrc decides. */
const { npm_config_loglevel: _parentLoglevel, ...ENV } = process.env;
let sim: ChildProcess | undefined;

/** Stops npm and the simulator it started (they share a process group). */
afterEach(() => {
  if (sim?.pid !== undefined && sim.exitCode === null) {
    try {
      process.kill(-sim.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  sim = undefined;
});

/** Resolves with everything before the first stdout line that `pick` accepts, and that line. */
function stdoutUntil(
  child: ChildProcess,
  pick: (line: string) => boolean,
): Promise<{ before: string[]; line: string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      text += chunk;
      const lines = text.split('\n').slice(0, -1);
      const at = lines.findIndex(pick);
      if (at >= 0) resolve({ before: lines.slice(0, at), line: lines[at] as string });
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`npm exited ${code} before the line: ${text}`)));
  });
}

const startSim = (npmArgs: readonly string[]) =>
  spawn('npm', [...npmArgs, '--', '--port', '0', '--assets', '3'], {
    cwd: ROOT,
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });

const controlUrlOf = (line: string) => (JSON.parse(line) as Record<string, unknown>)['controlUrl'];

describe('npm scripts under the repository .npmrc', () => {
  it("shows npm's own errors with --loglevel=warn: a mistyped script name says so on stderr", async () => {
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        'npm',
        ['--loglevel=warn', 'run', 'no-such-script'],
        { cwd: ROOT, env: ENV },
        (error, _stdout, stderr) => resolve({ code: error === null ? 0 : (error.code as number), stderr }),
      );
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Missing script: "no-such-script"');
  });

  it('npx icloud-s3 prints only what the command prints (npm exec shows no banner)', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile('npx', ['icloud-s3', '--version'], { cwd: ROOT, env: ENV }, (error, out) =>
        error === null ? resolve(out) : reject(error),
      );
    });
    expect(stdout).toBe(`${version}\n`);
  });

  it('npm run -s sim prints the simulator JSON as its first stdout line', async () => {
    sim = startSim(['run', '-s', 'sim']);
    const { before, line } = await stdoutUntil(sim, () => true);
    expect(before).toEqual([]);
    expect(controlUrlOf(line)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/__sim$/);
  });

  it('npm run sim prints the simulator JSON as its first stdout line (no npm banner before it)', async () => {
    sim = startSim(['run', 'sim']);
    const { before, line } = await stdoutUntil(sim, () => true);
    expect(before).toEqual([]);
    expect(controlUrlOf(line)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/__sim$/);
  });
});
