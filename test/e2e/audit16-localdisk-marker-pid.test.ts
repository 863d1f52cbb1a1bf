/**
 * Audit 16 (scratch): the unclean-stop marker names a PID that is alive but is not a sync on this
 * data folder. The local DynamoDB's LevelDB `LOCK` already keeps a second command out of a data
 * folder (finding 38), so a run that opened the state and finds a marker whose PID runs is looking
 * at PID reuse: most plainly its own PID (a container's sync is PID 1, or the same small PID, on
 * every start; after a reboot PIDs start over). Finding 1's take-over is skipped, and the run does
 * nothing while the killed run's detection lock lasts (16 minutes).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { expectedDigests, readLocalArchive, type TruthAsset } from '#test/helpers/local-archive.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
let signedIn: SignedIn;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6, seed: 41 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-audit16-pid-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a sync after one killed during detection, started again under the same PID', () => {
  it("takes over the dead run's lock (the marker names this very process) and archives the library", async () => {
    const dataDir = join(dir, 'data');
    await mkdir(dataDir, { recursive: true });
    // What a sync killed mid-detection leaves (as test/e2e/local-sync-stale-lock.test.ts): the
    // detection lock, and its marker, here naming the PID the next run gets again.
    const stack = await openLocalAwsStack({ dataDir });
    try {
      expect((await stack.state.acquireLock('detect-changes', 'killed-run', 16 * 60 * 1000)).acquired).toBe(
        true,
      );
    } finally {
      await stack.stop();
    }
    await writeFile(join(dataDir, 'sync-in-progress'), `${new Date().toISOString()}\n${process.pid}\n`);

    const summary = await runLocalSync({ dataDir, ...signedIn, logger });

    expect({ outcome: summary.outcome, itemsEnqueued: summary.itemsEnqueued }).toEqual({
      outcome: 'succeeded',
      itemsEnqueued: expect.any(Number),
    });
    const truth = (await controlClient(sim).library<{ assets: TruthAsset[] }>()).assets;
    const digests = (await readLocalArchive(dataDir)).map((o) => o.metadata['icloud-sha256']);
    expect(new Set(digests)).toEqual(expectedDigests(truth));
  });
});
