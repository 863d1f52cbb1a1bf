/**
 * The sync's progress counts each item as it is archived (its entry written, with the others of
 * its message done by then or after waiting ENTRY_BATCH_WAIT_MS for them), not when its whole work
 * message (up to 25 photos) is done: a small library is one message, so a Ctrl-C while it runs says what is
 * already in the archive instead of "before anything was archived". At the end the progress and
 * the summary agree.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInterruptedSync } from '#cli/io/sync-interrupted.ts';
import { ENTRY_BATCH_WAIT_MS } from '#domain/archive/entry-batch.ts';
import { ITEMS_PER_MESSAGE } from '#domain/detect/work-batches.ts';
import { runLocalSync, type SyncProgress } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6, seed: 13 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-progress-items-'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sync progress in items', () => {
  it('counts the items of a message as their entries are written, and ends on the summary’s figures', async () => {
    const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
    const reports: SyncProgress[] = [];
    // Each download takes as long as an entry waits for its message's others (entry-batch.ts):
    // the entries of the first photos are written, and counted, while the last still download.
    const control = controlClient(sim);
    await control.injectFault({ endpoint: 'cdn', delayMs: ENTRY_BATCH_WAIT_MS });
    const summary = await runLocalSync({
      ...LIBRARY_ONLY,
      dataDir: join(dir, 'data'),
      ...signedIn,
      logger: createLogger({ level: 'SILENT' }),
      concurrency: 1,
      onProgress: (p) => reports.push(p),
    });
    await control.clearFaults();

    // One work message carries the whole library: per message, the count would jump from 0 to all.
    expect(summary.outcome).toBe('succeeded');
    expect(summary.itemsEnqueued).toBeGreaterThan(1);
    expect(summary.itemsEnqueued).toBeLessThanOrEqual(ITEMS_PER_MESSAGE);
    const midway = reports.filter(
      (p) => p.phase === 'downloading' && p.itemsDone > 0 && p.itemsDone < p.itemsEnqueued,
    );
    expect(midway.length).toBeGreaterThan(0);
    const first = midway[0] as SyncProgress;
    expect(first.bytesArchived).toBeGreaterThan(0);
    expect(describeInterruptedSync(first)).toMatch(
      new RegExp(`^Interrupted after ${first.itemsDone} of ${summary.itemsEnqueued} items \\(`),
    );
    // Counted once each: never more than there are, never backwards on a clean run.
    const done = reports.map((p) => p.itemsDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    const last = reports.at(-1) as SyncProgress;
    expect(last.itemsDone).toBe(summary.itemsEnqueued);
    expect(last.bytesArchived).toBe(summary.bytesArchived);
  });

  it('counts nothing twice when Shared Albums are archived after the library', async () => {
    const signedIn = await signInToSimulator(sim, join(dir, 'session-shared.json'));
    const reports: SyncProgress[] = [];
    const summary = await runLocalSync({
      sharedAlbums: { enabled: true, cadenceMs: 0 },
      dataDir: join(dir, 'data-shared'),
      ...signedIn,
      logger: createLogger({ level: 'SILENT' }),
      concurrency: 2,
      onProgress: (p) => reports.push(p),
    });

    expect(summary.outcome).toBe('succeeded');
    expect(summary.appleRequests['sharedstreams/webgetassets']).toBeGreaterThan(0);
    const done = reports.map((p) => p.itemsDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    // The albums' copies are counted apart from the library's items (as the summary counts them).
    const last = reports.at(-1) as SyncProgress;
    expect(last.itemsDone).toBe(summary.itemsEnqueued);
    expect(last.bytesArchived).toBe(summary.bytesArchived);
  });
});
