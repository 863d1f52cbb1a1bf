/**
 * A local `sync` whose iCloud session ends while photos are downloading: the photos archived before
 * it stopped are counted in its summary, and the sync after the login counts the rest, so the two
 * summaries' `archived` add up to the library exactly (before, a work message stopped mid-way by
 * the sign-in reported nothing, and its redelivery found those photos done: they were never counted).
 * The stopped sync ends as one whose detection meets the sign-in does: `reauthRequired` (the CLI's
 * exit 3, "run icloud-s3 login"), its queue parked whole and nothing dead-lettered (before, the
 * pollers kept redelivering until some work was dead-lettered and the run ended `partial`).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { expectedDigests, readLocalArchive, type TruthAsset } from '#test/helpers/local-archive.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });

let dir: string;
let sim: SimulatorHandle | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-reauth-counts-'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a local sync whose session ends while photos download', () => {
  it('counts every photo once across it and the sync after the login', async () => {
    sim = await startTestSimulator({ assets: 60, seed: 11 });
    const control = controlClient(sim);
    const sessionFile = join(dir, 'session.json');
    const dataDir = join(dir, 'data');
    // A reference archive of the same library, synced without trouble: what "every photo" is.
    const reference = await runLocalSync({
      ...LIBRARY_ONLY,
      dataDir: join(dir, 'reference'),
      ...(await signInToSimulator(sim, join(dir, 'reference-session.json'))),
      logger,
    });
    expect(reference.outcome).toBe('succeeded');
    const library = reference.assets.archived;

    type Truth = { assets: (TruthAsset & { readonly isDeleted: boolean })[] };
    const inRecentlyDeleted = (await control.library<Truth>()).assets.filter((a) => a.isDeleted);

    const signedIn = await signInToSimulator(sim, sessionFile);
    // Slow downloads: the month passes while some are in flight.
    await control.injectFault({ endpoint: 'cdn', delayMs: 150 });
    // Once a few photos are archived, a month passes: the session and every URL have expired,
    // so the next URL refresh learns that a person must sign in again.
    let advanced: Promise<unknown> | undefined;
    const stopped = await runLocalSync({
      ...LIBRARY_ONLY,
      dataDir,
      ...signedIn,
      logger,
      onProgress: (progress) => {
        if (progress.itemsDone >= 5) advanced ??= control.advanceClock({ advanceDays: 31 });
      },
    });
    await advanced;
    await control.clearFaults();

    // It stops as detection does when it meets the sign-in: the queued work parked, none of it
    // dead-lettered, and the person told to sign in (the CLI exits 3 on this outcome).
    expect(stopped.outcome, JSON.stringify({ ...stopped, failures: undefined })).toBe('reauthRequired');
    expect(stopped.action).toBe('icloud-s3 login');
    expect(stopped.message).toBeTruthy();
    expect(stopped.deadLetters).toBe(0);
    expect(stopped.workParked).toBeGreaterThan(0);
    // Nothing was left in flight: the next run needs no re-walk of the library.
    expect(existsSync(join(dataDir, 'sync-in-progress'))).toBe(false);
    const archivedBefore = (await readLocalArchive(dataDir)).length;
    expect(archivedBefore).toBeGreaterThan(0);
    expect(stopped.assets.archived).toBeGreaterThan(0);

    const again = await signInToSimulator(sim, sessionFile);
    const after = await runLocalSync({ ...LIBRARY_ONLY, dataDir, ...again, logger });
    expect(after.outcome).toBe('succeeded');
    expect(after.deadLetters).toBe(0);
    expect(after.workParked).toBe(0);
    // The month purged what was in Recently Deleted (the reference archived it the same day): what
    // the first run had not archived yet is gone from iCloud, so from this archive too, and its
    // parked work ended without a retry (reliability finding 100).
    const stillThere = new Set((await control.library<Truth>()).assets.map((a) => a.assetRecordName));
    const archive = await readLocalArchive(dataDir);
    const archivedDigests = new Set(archive.map((o) => o.metadata['icloud-sha256']));
    const purgedUnarchived = inRecentlyDeleted.filter(
      (a) =>
        !stillThere.has(a.assetRecordName) &&
        ![...expectedDigests([a])].some((digest) => archivedDigests.has(digest)),
    );
    const lost = expectedDigests(purgedUnarchived);
    const referenceObjects = (await readLocalArchive(join(dir, 'reference'))).filter(
      (o) => !lost.has(o.metadata['icloud-sha256'] ?? ''),
    );
    expect(archive).toHaveLength(referenceObjects.length);
    expect(after.assets.failed + stopped.assets.failed).toBe(0);
    // Each photo once: archived by one run or the other, and counted by the run that archived it.
    const counted = { stopped: stopped.assets.archived, after: after.assets.archived };
    expect(counted.stopped + counted.after, JSON.stringify(counted)).toBe(library - purgedUnarchived.length);
  });
});
