import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface RunLine {
  readonly run: 'initial' | 'afterChanges' | 'unchanged';
  readonly outcome: string;
  readonly assets: { readonly archived: number; readonly failed: number };
  readonly appleRequests: Record<string, number>;
}

let dir: string;

/** `npm start -- --json` in its own process, as a newcomer runs it. */
function npmStart(): Promise<{ code: number | null; lines: RunLine[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['start', '--', '--json', '--dir', dir, '--assets', '60'], {
      cwd: join(import.meta.dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as RunLine);
      resolve({ code, lines, stderr });
    });
  });
}

/** The library's detection requests (Shared Albums, on by default, are counted apart). */
const detection = (line: RunLine) =>
  Object.entries(line.appleRequests)
    .filter(
      ([endpoint]) =>
        endpoint !== 'cdn' && endpoint !== 'records/lookup' && !endpoint.startsWith('sharedstreams/'),
    )
    .reduce((sum, [, n]) => sum + n, 0);

/** An idle check: the library's one request, and one listing of the demo account's Shared Albums. */
const IDLE = { 'changes/database': 1, 'sharedstreams/webgetalbumslist': 1 };

/** Requests to Apple that find changes: all but downloads and the workers' record lookups. */
const findingChanges = (line: RunLine) =>
  Object.entries(line.appleRequests)
    .filter(([endpoint]) => endpoint !== 'cdn' && endpoint !== 'records/lookup')
    .reduce((sum, [, n]) => sum + n, 0);

/** What README.md's walk through the demo says its second and third runs cost. */
function readmeRequestCounts(): { afterChanges: number; unchanged: number } {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8').replace(
    /\s+/g,
    ' ',
  );
  const said =
    /finding the changes costs \*\*(\d+) requests to Apple\*\*.*?nothing changed: \*\*(\d+) requests?\*\*/.exec(
      readme,
    );
  return { afterChanges: Number(said?.[1]), unchanged: Number(said?.[2]) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-start-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('runs the demo to the end: a first sync, an incremental one, an idle one', async () => {
    const { code, lines, stderr } = await npmStart();
    expect(code, stderr).toBe(0);
    expect(lines.map((l) => l.run)).toEqual(['initial', 'afterChanges', 'unchanged']);
    const [initial, afterChanges, unchanged] = lines as [RunLine, RunLine, RunLine];
    expect(initial.outcome).toBe('succeeded');
    expect(initial.assets.archived).toBeGreaterThan(40);
    expect(initial.assets.failed).toBe(0);
    expect(detection(afterChanges)).toBe(2);
    expect(afterChanges.assets.archived).toBeGreaterThan(0);
    expect(unchanged.outcome).toBe('idle');
    expect(unchanged.appleRequests).toEqual(IDLE);
    // The README counts every request, the demo account's Shared Albums listing included.
    expect(readmeRequestCounts()).toEqual({
      afterChanges: findingChanges(afterChanges),
      unchanged: findingChanges(unchanged),
    });
  });

  it('continues incrementally when run a second time in the same folder', async () => {
    const { code, lines, stderr } = await npmStart();
    expect(code, stderr).toBe(0);
    const [initial] = lines as [RunLine];
    expect(initial.run).toBe('initial');
    expect(initial.outcome).toBe('idle');
    expect(initial.appleRequests).toEqual(IDLE);
  });
});
