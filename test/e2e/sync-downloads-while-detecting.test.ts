/**
 * The local runtime downloads while it detects, as Lambda does (the queue's trigger runs while the
 * detector still pages): work a page enqueued is archived while the next page is read, instead of
 * after the last one. The archive still ends exact, and the next run is idle.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { LIBRARY_ONLY } from '#test/helpers/pipeline-harness.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 450, seed: 31, mediaScale: 0.001 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-overlap-'));
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a first local sync', () => {
  it('archives what the first pages found while detection reads the later ones', async () => {
    const control = controlClient(sim);
    const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
    const options = {
      ...LIBRARY_ONLY,
      dataDir: join(dir, 'data'),
      ...signedIn,
      logger: createLogger({ level: 'SILENT' }),
    };
    // Pages that take a while, as Apple's do: time enough for the first page's work to start.
    await control.injectFault({ endpoint: 'records/query', delayMs: 150 });
    await control.call('DELETE', '/requests');

    const summary = await runLocalSync(options);
    const log = (await control.requests(1000)).requests;
    await control.clearFaults();

    expect(summary.outcome).toBe('succeeded');
    expect(summary.assets.failed).toBe(0);
    expect(summary.assets.archived).toBe(summary.itemsEnqueued);
    const firstDownload = log.findIndex((r) => r.endpoint === 'cdn');
    const lastQuery = log.findLastIndex((r) => r.endpoint.includes('records/query'));
    expect(firstDownload).toBeGreaterThanOrEqual(0);
    expect(firstDownload).toBeLessThan(lastQuery);
    const again = await runLocalSync(options);
    expect(again.outcome).toBe('idle');
  });
});
