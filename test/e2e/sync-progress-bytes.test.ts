/**
 * The sync's progress counts bytes as they stream from the CDN, against the bytes its work may
 * download, so the bar moves within a long video instead of waiting for the item to finish.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync, type SyncProgress } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 30, seed: 5, mediaScale: 0.2 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-progress-'));
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('sync progress in bytes', () => {
  it('reports the bytes streamed and the bytes expected; by the end they cover what was archived', async () => {
    const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
    const reports: SyncProgress[] = [];
    const summary = await runLocalSync({
      ...LIBRARY_ONLY,
      dataDir: join(dir, 'data'),
      ...signedIn,
      logger: createLogger({ level: 'SILENT' }),
      concurrency: 1,
      onProgress: (p) => reports.push(p),
    });
    const last = reports.at(-1) as SyncProgress;
    expect(summary.bytesArchived).toBeGreaterThan(0);
    expect(last.bytesDownloaded).toBe(summary.bytesArchived);
    expect(last.bytesExpected).toBeGreaterThanOrEqual(summary.bytesArchived);
    // Bytes are reported between finished items too, not only when one finishes.
    const downloading = reports.filter((p) => p.phase === 'downloading');
    const withinItems = downloading.filter((p, i) => i > 0 && p.itemsDone === downloading[i - 1]?.itemsDone);
    expect(withinItems.length).toBeGreaterThan(0);
  });
});
