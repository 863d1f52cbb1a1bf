/**
 * The repository's .npmrc: `npm run sim` prints the simulator's JSON line first on stdout
 * (programs read it), with no npm banner before it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
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

function firstStdoutLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`npm run sim exited ${code} before a line: ${text}`)));
  });
}

describe('npm scripts under the repository .npmrc', () => {
  it('npm run sim prints the simulator JSON as its first stdout line (no npm banner before it)', async () => {
    sim = spawn('npm', ['run', 'sim', '--', '--port', '0', '--assets', '3'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const line = await firstStdoutLine(sim);
    const described = JSON.parse(line) as Record<string, unknown>;
    expect(described['controlUrl']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/__sim$/);
  });
});
