/**
 * A sync killed during detection (found by the fault matrix: SIGKILL of `sync`, or of its process
 * group, at a `records/query` page) left the detection lock held for the detector's whole lease
 * (16 minutes). Every `sync` in that window said "partial", exited 0 and did nothing. Locally the
 * lock's holder is the process named in the unclean-stop marker: once that process is gone, the
 * lock is stale, and the next sync takes it over and re-walks the library. So it is when the
 * marker's PID is alive: the run that reads it holds the folder's LevelDB LOCK, so that process is
 * not a sync on this folder (PID reuse).
 */
import { execFile } from 'node:child_process';
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

/** The PID of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = execFile(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

/** What a sync killed mid-detection leaves: its marker, and the detection lock it held. */
async function leaveAKilledRun(dataDir: string, pid: number): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const stack = await openLocalAwsStack({ dataDir });
  try {
    const lease = await stack.state.acquireLock('detect-changes', 'killed-run', 16 * 60 * 1000);
    expect(lease.acquired).toBe(true);
  } finally {
    await stack.stop();
  }
  await writeFile(join(dataDir, 'sync-in-progress'), `${new Date().toISOString()}\n${pid}\n`);
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6, seed: 41 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-stale-lock-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a sync after one killed during detection', () => {
  it('takes over the lock of the dead run and archives the whole library', async () => {
    const dataDir = join(dir, 'killed');
    await leaveAKilledRun(dataDir, await deadPid());

    const summary = await runLocalSync({ dataDir, ...signedIn, logger });

    expect(summary.outcome).toBe('succeeded');
    const truth = (await controlClient(sim).library<{ assets: TruthAsset[] }>()).assets;
    const digests = (await readLocalArchive(dataDir)).map((o) => o.metadata['icloud-sha256']);
    expect(new Set(digests)).toEqual(expectedDigests(truth));
  });

  // This case once wrote this very process's PID and expected the lock left alone, "a sync still
  // running". No such sync can exist here: a sync on this folder holds the local DynamoDB's
  // LevelDB LOCK, so this run could not have opened the state (state-in-use, finding 38;
  // local-sync-two-at-once.test.ts). A live PID in the marker is another process that got the
  // number: a container's sync is PID 1, or the same small PID, on every start.
  it('takes over the lock when the marker names a live process (PID reuse), and archives the library', async () => {
    const dataDir = join(dir, 'pid-reused');
    await leaveAKilledRun(dataDir, process.pid);

    const summary = await runLocalSync({ dataDir, ...signedIn, logger });

    expect({ outcome: summary.outcome, enqueued: summary.itemsEnqueued > 0 }).toEqual({
      outcome: 'succeeded',
      enqueued: true,
    });
    const truth = (await controlClient(sim).library<{ assets: TruthAsset[] }>()).assets;
    const digests = (await readLocalArchive(dataDir)).map((o) => o.metadata['icloud-sha256']);
    expect(new Set(digests)).toEqual(expectedDigests(truth));
  });
});
