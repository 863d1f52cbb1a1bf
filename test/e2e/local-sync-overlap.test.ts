/**
 * A local sync downloads while it detects, as Lambda's workers do while the detector pages on:
 * the first CDN download starts as soon as detection has put work on the queue, not once every
 * detection step has ended. A fault slows a detection step that comes after the library's pages
 * (the Shared Albums listing), so a run that waited for detection to end would show it plainly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

let sim: SimulatorHandle;
let dir: string;
beforeAll(async () => {
  sim = await startTestSimulator({ assets: 0, seed: 41 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-overlap-'));
}, 60_000);
afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a local sync', () => {
  it('starts downloading while detection is still at work', async () => {
    const control = controlClient(sim);
    await control.mutate({ op: 'add', kind: 'photo', count: 12, sizeBytes: 16 * 1024 });
    const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
    // The Shared Albums listing comes after the library's pages have put their work on the queue.
    await control.injectFault({ endpoint: 'sharedstreams/webgetalbumslist', delayMs: 1_500, count: 1 });
    const exchanges: { url: string; at: number }[] = [];
    const summary = await runLocalSync({
      dataDir: join(dir, 'archive'),
      ...signedIn,
      logger: createLogger({ level: 'SILENT' }),
      observer: {
        async observe(request) {
          exchanges.push({ url: request.url, at: performance.now() });
        },
      },
    });
    expect(summary.outcome).toBe('succeeded');
    expect(summary.assets.archived).toBeGreaterThanOrEqual(12);
    const listed = exchanges.find((e) => e.url.includes('/sharedstreams/webgetalbumslist'));
    const firstDownload = exchanges.find((e) => new URL(e.url).hostname.endsWith('icloud-content.com'));
    expect(listed).toBeDefined();
    expect(firstDownload).toBeDefined();
    // Downloads began while the slowed listing was still waiting for its answer.
    expect(firstDownload?.at).toBeLessThan(listed?.at ?? 0);
  }, 120_000);
});
