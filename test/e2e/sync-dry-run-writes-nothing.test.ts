import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type CliRun, runCli } from '#test/helpers/run-cli.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
let signedIn: SignedIn;

/** Every file under `root`: its path, size and content hash, sorted. */
async function fingerprint(root: string): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    if (entry.isDirectory()) {
      lines.push(`${relative(root, full)}/`);
      continue;
    }
    const content = await readFile(full);
    const hash = createHash('sha256').update(content).digest('hex');
    lines.push(`${relative(root, full)} ${content.length} ${hash}`);
  }
  return lines.sort();
}

function cli(args: readonly string[]): Promise<CliRun> {
  return runCli(args);
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6, seed: 5 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-dry-run-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sync --dry-run writes nothing', () => {
  it('plans everything as new on a folder with no archive, and creates no folder', async () => {
    const dataDir = join(dir, 'fresh');

    const summary = await runLocalSync({ dataDir, ...signedIn, logger, dryRun: true });

    expect(summary.outcome).toBe('dryRun');
    expect(summary.assets.archived).toBe(6);
    expect(summary.versionsArchived).toBeGreaterThanOrEqual(6);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('leaves status saying there is no local archive after a dry run on a fresh folder', async () => {
    const dataDir = join(dir, 'fresh-cli');
    const session = ['--local', dataDir, '--session-file', join(dir, 'session.json'), '--json'];

    const dry = await cli(['sync', '--dry-run', ...session]);
    const status = await cli(['status', ...session]);

    expect(JSON.parse(dry.stdout)).toMatchObject({ status: 'dryRun', assets: { archived: 6 } });
    expect(existsSync(dataDir)).toBe(false);
    expect(status.code).not.toBe(0);
    expect(status.stdout + status.stderr).toContain('no local archive');
  });

  it('reads an existing archive (only the new photo is planned) and leaves every file as it was', async () => {
    const dataDir = join(dir, 'existing');
    await runLocalSync({ dataDir, ...signedIn, logger });
    await controlClient(sim).mutate({ op: 'add', kind: 'photo', count: 1 });
    const before = await fingerprint(dataDir);

    const summary = await runLocalSync({ dataDir, ...signedIn, logger, dryRun: true });

    expect(summary.outcome).toBe('dryRun');
    expect(summary.assets.archived).toBe(1);
    expect(await fingerprint(dataDir)).toEqual(before);
  });

  it('on a session without the Shared Albums service, asks the account but stores nothing, and says so', async () => {
    // A session stored before Shared Albums (finding 69): a real run asks the account
    // (accountLogin) and stores the session with the service; a dry run only asks.
    const file = join(dir, 'session.json');
    const { sharedstreamsUrl: _, ...older } = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify(older));
    // Compared by hash: a failure prints no cookie.
    const stored = async () =>
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex');
    const before = await stored();
    const dataDir = join(dir, 'no-service');

    const first = await runLocalSync({ dataDir, ...signedIn, logger, dryRun: true });
    expect(await stored()).toBe(before);
    // Nothing stored, so the next dry run asks again (a real run would not: finding 69).
    const second = await runLocalSync({ dataDir, ...signedIn, logger, dryRun: true });
    expect(await stored()).toBe(before);
    for (const summary of [first, second]) {
      expect(summary.sharedAlbumsServiceLookup).toBe('found');
      expect(summary.appleRequests).toMatchObject({ accountLogin: 1 });
    }
    expect(existsSync(dataDir)).toBe(false);
  });
});
