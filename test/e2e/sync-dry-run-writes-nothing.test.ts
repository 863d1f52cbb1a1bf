import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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
});
