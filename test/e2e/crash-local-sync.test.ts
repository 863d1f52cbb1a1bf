/**
 * The one-machine runtime killed mid-sync. Its SQS is in memory: a process killed after
 * detection had enqueued (and saved its tokens) but before the queue drained loses that work.
 * The marker file it leaves makes the next run re-walk the library, and that run must end with
 * exactly the library archived, each version once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { seededRandom } from '#test/fakes/crashing-invocation.ts';
import { crashSeeds } from '#test/helpers/crash-seeds.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { expectedDigests, readLocalArchive, type TruthAsset } from '#test/helpers/local-archive.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
/**
 * Where the kill lands: after the first download by default (as CI has always run it); with
 * `CRASH_SEED` after a share of the queue drawn from the seed, up to four fifths of it.
 */
const seeds = crashSeeds();
const killShare = seeds.chosen ? seededRandom(seeds.seed)() * 0.8 : 0;
process.stdout.write(
  `crash local sync: seed ${seeds.seed}, kill after ${(killShare * 100).toFixed(0)}% of the queue` +
    ` (rerun: CRASH_SEED=${seeds.seed})\n`,
);
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let signedIn: SignedIn;
let child: ChildProcess | undefined;

const dataDir = () => join(dir, 'data');
const truth = async () => (await control.library<{ assets: TruthAsset[] }>()).assets;

/** The same `runLocalSync` in a child process that prints each progress report as a JSON line. */
const CHILD_SCRIPT = `
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
const [controlUrl, sessionFile, dataDir] = process.argv.slice(1);
await runLocalSync({
  sharedAlbums: { enabled: false, cadenceMs: 0 },
  dataDir,
  endpoint: await resolveEndpoint(controlUrl),
  store: new FileSessionStore(sessionFile),
  logger: createLogger({ level: 'SILENT' }),
  concurrency: 1,
  onProgress: (progress) => process.stdout.write(JSON.stringify(progress) + '\\n'),
});
`;

interface Progress {
  readonly phase: string;
  readonly itemsEnqueued: number;
  readonly itemsDone: number;
}

/**
 * Runs a sync in a child process group and kills the whole group (the child and the S3 server it
 * started) with SIGKILL at the first progress report for which `killWhen` holds.
 */
function runAndKill(killWhen: (progress: Progress) => boolean): Promise<Progress> {
  return new Promise((resolve, reject) => {
    const started = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '--eval',
        CHILD_SCRIPT,
        sim.controlUrl,
        join(dir, 'session.json'),
        dataDir(),
      ],
      { cwd: process.cwd(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    let buffered = '';
    let errors = '';
    let killedAt: Progress | undefined;
    started.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    started.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const progress = JSON.parse(line) as Progress;
        if (killedAt === undefined && killWhen(progress) && started.pid !== undefined) {
          killedAt = progress;
          process.kill(-started.pid, 'SIGKILL');
        }
      }
    });
    started.on('exit', () => {
      child = undefined;
      if (killedAt !== undefined) resolve(killedAt);
      else reject(new Error(`the sync ended before it could be killed: ${errors.slice(-2000)}`));
    });
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 40, seed: 23 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-crash-local-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  if (child?.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the local runtime stopped uncleanly', () => {
  it(`re-walks the library after a kill between detection and the end of the downloads, and ends exact (seed ${seeds.seed})`, async () => {
    // Slow downloads: the kill lands while most of the queue is still waiting.
    await control.injectFault({ endpoint: 'cdn', delayMs: 150 });
    const killedAt = await runAndKill(
      (p) => p.phase === 'downloading' && p.itemsDone > 0 && p.itemsDone >= killShare * p.itemsEnqueued,
    );
    await control.clearFaults();

    expect(killedAt.itemsDone).toBeLessThan(killedAt.itemsEnqueued);
    expect(existsSync(join(dataDir(), 'sync-in-progress'))).toBe(true);
    const wanted = expectedDigests(await truth());
    const before = new Set((await readLocalArchive(dataDir())).map((o) => o.metadata['icloud-sha256']));
    expect(before.size).toBeLessThan(wanted.size);

    const summary = await runLocalSync({ ...LIBRARY_ONLY, dataDir: dataDir(), ...signedIn, logger });

    expect(summary.outcome).toBe('succeeded');
    expect(existsSync(join(dataDir(), 'sync-in-progress'))).toBe(false);
    const objects = await readLocalArchive(dataDir());
    const digests = objects.map((o) => o.metadata['icloud-sha256']);
    expect(new Set(digests)).toEqual(wanted);
    expect(digests).toHaveLength(wanted.size);
  });

  it('is idle on the run after the recovery', async () => {
    await control.resetStats();
    const summary = await runLocalSync({ ...LIBRARY_ONLY, dataDir: dataDir(), ...signedIn, logger });
    expect(summary.outcome).toBe('idle');
    expect((await control.stats()).requests).toEqual({ 'changes/database': 1 });
  });
});
