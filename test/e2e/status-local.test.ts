import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalArchive } from '#compose/archive-access.ts';
import { runLocalSync, type SyncSummary } from '#local/local-sync.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type CliRun, runCli } from '#test/helpers/run-cli.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

const DAY = 24 * 60 * 60 * 1000;
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
let dataDir: string;
let sessionFile: string;
let summary: SyncSummary;
let syncedAt: number;
let signedIn: SignedIn;

function cli(args: readonly string[]): Promise<CliRun> {
  return runCli(args);
}

const status = (...extra: string[]) =>
  cli(['status', '--local', dataDir, '--session-file', sessionFile, ...extra]);

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 10, seed: 3 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-status-'));
  dataDir = join(dir, 'data');
  sessionFile = join(dir, 'session.json');
  signedIn = await signInToSimulator(sim, sessionFile);
  syncedAt = Date.now();
  summary = await runLocalSync({ dataDir, ...signedIn, logger: createLogger({ level: 'SILENT' }) });
  // The simulator's account owns and joined Shared Albums: they are archived too, apart from the library.
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('icloud-s3 status on a local archive', () => {
  it('prints one JSON object with the runs, caught-up zones, counts and trust expiry', async () => {
    const { code, stdout } = await status('--json');
    const result = JSON.parse(stdout);

    expect(code).toBe(0);
    expect(result.status).toBe('ok');
    expect(result.runs.length).toBeGreaterThan(0);
    expect(result.runs.map((r: { kind: string }) => r.kind)).toContain('detect');
    expect(result.runs.every((r: { outcome: string }) => r.outcome !== 'running')).toBe(true);
    expect(result.zones.length).toBeGreaterThan(0);
    expect(result.zones.every((z: { progress: string }) => z.progress === 'caughtUp')).toBe(true);
    expect(result.firstSyncInProgress).toBe(false);
    expect(result.manifest.byStatus.archived).toBe(summary.assets.archived);
    expect(result.manifest.bytes).toBe(summary.bytesArchived);
    expect(result.counters).toEqual({ objects: result.manifest.objects, bytes: result.manifest.bytes });
    expect(result.trust.state).toBe('ok');
    expect(result.trust.expiresAt).toBeGreaterThan(syncedAt + 59 * DAY);
  });

  it('says the trust expiry is unknown when no session is stored', async () => {
    const { stdout } = await cli([
      'status',
      '--local',
      dataDir,
      '--session-file',
      join(dir, 'none.json'),
      '--json',
    ]);

    expect(JSON.parse(stdout).trust).toEqual({ state: 'unknown' });
  });

  it('says how long ago an expired trust ran out, never a negative day count', async () => {
    const expired = join(dir, 'expired-session.json');
    const document = JSON.parse(await readFile(sessionFile, 'utf8')) as Record<string, unknown>;
    document['trustTokenIssuedAt'] = Date.now() - 62 * DAY - 60_000;
    await writeFile(expired, JSON.stringify(document));

    const { code, stdout, stderr } = await cli(['status', '--local', dataDir, '--session-file', expired]);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^Trust {5}expired 2 days ago \(\d{4}-\d{2}-\d{2}\)$/m);
    expect(stdout).not.toContain('(-');
    expect(stderr).toContain('Run npx icloud-s3 login --force soon.');
  });

  it('prints short aligned lines for a person', async () => {
    const { code, stdout } = await status();

    expect(code).toBe(0);
    expect(stdout).toMatch(/^Archive {3}local archive at /m);
    expect(stdout).toMatch(/^Zones {5}PrimarySync +caught up +token .* old$/m);
    expect(stdout).toMatch(/^Trust {5}expires \d{4}-\d{2}-\d{2} \(\d+ days\)$/m);
    expect(stdout).toMatch(/^Runs {6}\d{4}-\d{2}-\d{2} \d{2}:\d{2} {2}\w+/m);
    expect(stdout).toMatch(/^Checked {3}\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(\d+ (s|min) ago\)$/m);
    expect(stdout).not.toMatch(/\x1b\[/);
  });

  it('says when iCloud was last checked, an idle check included', async () => {
    const before = JSON.parse((await status('--json')).stdout).lastCheckedAt as number;
    expect(before).toBeGreaterThanOrEqual(syncedAt);
    const idle = await runLocalSync({ dataDir, ...signedIn, logger: createLogger({ level: 'SILENT' }) });
    expect(idle.outcome).toBe('idle');
    const after = JSON.parse((await status('--json')).stdout).lastCheckedAt as number;
    expect(after).toBeGreaterThan(before);
  });

  it('says since when Shared Albums have failed on every run, with the last error class', async () => {
    // What a run's check notes of a failing step (app/detection-run.ts), written as it would be.
    const since = Date.now() + 1_000;
    const noteCheck = async (at: number, check: Parameters<SyncStateStore['recordCheck']>[1]) => {
      const access = await openLocalArchive(dataDir);
      try {
        await access.state.recordCheck(at, check);
      } finally {
        await access.close();
      }
    };
    const failed = {
      failed: { errorClass: 'fatal' as const, message: 'AccessDeniedException: not authorized' },
    };
    await noteCheck(since, failed);
    await noteCheck(since + DAY, failed);

    const json = JSON.parse((await status('--json')).stdout);
    expect(json.sharedAlbums.failing).toEqual({
      since: new Date(since).toISOString(),
      lastFailedAt: new Date(since + DAY).toISOString(),
      errorClass: 'fatal',
      message: 'AccessDeniedException: not authorized',
    });
    const text = await status();
    expect(text.stdout + text.stderr).toMatch(
      /Shared Albums have failed on every run since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(last .* UTC, fatal: AccessDeniedException: not authorized\)/,
    );

    await noteCheck(since + DAY + 1_000, 'notFailing');
    expect(JSON.parse((await status('--json')).stdout).sharedAlbums.failing).toBeUndefined();
  });

  it('exits 2 with a hint when the folder holds no archive', async () => {
    const { code, stderr } = await cli(['status', '--local', join(dir, 'missing')]);

    expect(code).toBe(2);
    expect(stderr).toMatch(/no local archive at .*icloud-s3 sync --local/);
  });
});
