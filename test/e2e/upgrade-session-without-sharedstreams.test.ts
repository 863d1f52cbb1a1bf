/**
 * Upgrade: a session saved by a release from before Shared Albums (before 2a17005, 2026-12-06)
 * has no `sharedstreamsUrl`: that release's accountLogin did not keep it. The stored session keeps
 * working after the upgrade (its cookies rotate on every run), so no refresh comes to fill the
 * field in. The detector asks Apple's account once (`accountLogin`) and stores what it learns
 * (docs/reliability.md). Rebuilt with the demo: its session with the field taken out, as the
 * older release stored it, against a fresh archive.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '#test/helpers/run-cli.ts';

let dir: string;

function resultOf(run: { stdout: string; stderr: string }): Record<string, unknown> {
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`no JSON result on stdout:\n${run.stdout}\n${run.stderr}`);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upgrade-shared-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a session stored before Shared Albums', () => {
  it('archives the Shared Albums and stores the service it learnt', async () => {
    const demo = await runCli(['demo', '--dir', dir, '--assets', '20', '--json']);
    expect(demo.code, demo.stderr).toBe(0);
    const session = JSON.parse(await readFile(join(dir, 'session.json'), 'utf8')) as Record<string, unknown>;
    // The demo's own archive has them: the account owns and joined Shared Albums.
    const demoStatus = resultOf(
      await runCli([
        'status',
        '--local',
        join(dir, 'archive'),
        '--session-file',
        join(dir, 'session.json'),
        '--json',
      ]),
    );
    expect((demoStatus.sharedAlbums as { albums: number }).albums).toBeGreaterThan(0);

    // The session as the older release stored it: everything but the field it did not know.
    const { sharedstreamsUrl: _, ...older } = session;
    const olderFile = join(dir, 'session-older.json');
    await writeFile(olderFile, JSON.stringify(older));
    await chmod(olderFile, 0o600);
    const archive = join(dir, 'upgraded');
    const sync = await runCli(['sync', '--local', archive, '--session-file', olderFile, '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    const status = resultOf(
      await runCli(['status', '--local', archive, '--session-file', olderFile, '--json']),
    );
    expect(status.sharedAlbums).toMatchObject({
      albums: (demoStatus.sharedAlbums as { albums: number }).albums,
    });
    // Learnt once and stored: the next runs need no accountLogin for it.
    const stored = JSON.parse(await readFile(olderFile, 'utf8')) as Record<string, unknown>;
    expect(stored.sharedstreamsUrl).toBe(session.sharedstreamsUrl);
  });
});
