/**
 * A "try again later" answer (HTTP 200, `{"serverErrorCode": "TRY_AGAIN_LATER", ...}`) to the
 * Shared Albums listing is a temporary error, never an empty list: the run that met it retries
 * or fails, and the next run lists every album and hands it to the workers, who archive every
 * item. Read as "no album", it once made the next day's runs skip the legacy listing (no legacy
 * album known), leaving every item out, silently (found by the fault matrix, seed 19283).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createLogger } from '#shared/logger.ts';
import { CrashSchedule } from '#test/fakes/crashing-invocation.ts';
import { CrashingLambdaRuntime, ManualClock } from '#test/fakes/crashing-lambda-runtime.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { sharedAlbumDifferences } from '#test/helpers/fault-matrix/derived-checks.ts';
import { type MatrixWorld, openWorld } from '#test/helpers/fault-matrix/world.ts';

const logger = createLogger({ level: 'SILENT' });
const LISTING = 'sharedstreams/webgetalbumslist';

let dir: string | undefined;
let world: MatrixWorld | undefined;

afterEach(async () => {
  await world?.sim.stop();
  world = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function pipeline() {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-shared-try-again-'));
  world = await openWorld(dir, { assets: 6, seed: 7 });
  const { endpoint, sessionFile } = world;
  const store = new FileSessionStore(sessionFile);
  const clock = new ManualClock();
  const objects = new InMemoryObjectStore({ now: clock.now, partSize: MIN_PART_SIZE });
  const runtime = new CrashingLambdaRuntime({
    schedule: new CrashSchedule([]),
    clock,
    state: new InMemorySyncStateStore({ now: clock.now }),
    objects,
    queue: new InMemoryWorkQueue(),
    openIcloud: () => openIcloudAdapters({ endpoint, store, logger }),
    deletePolicy: DEFAULT_DELETE_POLICY,
    versionPolicy: DEFAULT_VERSION_POLICY,
    sharedAlbums: { enabled: true, cadenceMs: 0 },
  });
  return { world, runtime, objects };
}

/** The Shared Albums step's result of a detection run (none on a run that needs a person). */
function sharedOf(run: Awaited<ReturnType<CrashingLambdaRuntime['detectOnce']>>) {
  return run !== undefined && 'sharedAlbums' in run ? run.sharedAlbums : undefined;
}

/** Albums the signed-in account sees in the simulator. */
async function visibleAlbums(w: MatrixWorld): Promise<number> {
  const me = (await w.control.session()).dsid;
  const truth = await w.control.call<{
    albums: { deleted: boolean; owner: { dsid: string }; subscribers: { dsid: string }[] }[];
  }>('GET', '/sharedstreams');
  return truth.albums.filter(
    (a) => !a.deleted && (a.owner.dsid === me || a.subscribers.some((s) => s.dsid === me)),
  ).length;
}

describe('a "try again later" answer to the Shared Albums listing', () => {
  it('is retried in the same run, which lists every album', async () => {
    const { world: w, runtime } = await pipeline();
    const albums = await visibleAlbums(w);
    expect(albums).toBeGreaterThan(0);
    await w.control.injectFault({ endpoint: LISTING, mode: 'try-again-later', count: 1 });

    const run = await runtime.detectOnce();

    expect(sharedOf(run)).toMatchObject({ outcome: 'changed', albums, changedAlbums: albums });
  });

  it('that lasts a whole run leaves nothing marked done: the next run lists and archives every item', async () => {
    const { world: w, runtime, objects } = await pipeline();
    const albums = await visibleAlbums(w);
    // More answers than a run's attempts: the whole listing of the first run is refused.
    await w.control.injectFault({ endpoint: LISTING, mode: 'try-again-later', count: 10 });
    const refused = await runtime.detectOnce();
    while (await runtime.downloadOnce());
    await w.control.clearFaults();

    const next = await runtime.detectOnce();
    while (await runtime.downloadOnce());
    await runtime.detectOnce();

    expect(sharedOf(refused)?.outcome).toBe('failed');
    expect(sharedOf(next)).toMatchObject({ outcome: 'changed', albums, changedAlbums: albums });
    const me = (await w.control.session()).dsid;
    expect(
      await sharedAlbumDifferences(w.control, me, runtime.sharedAlbumState, new Set(objects.keys())),
    ).toEqual([]);
  });
});
