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
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { readBucketContents } from '#test/helpers/bucket-contents.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

let sim: SimulatorHandle;
let dir: string;
beforeAll(async () => {
  sim = await startTestSimulator({ assets: 0, seed: 41 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-overlap-'));
});
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
  });
});

describe('a local sync whose detection refuses a mass deletion', () => {
  it('still archives what the pages before the refusal put on the queue', async () => {
    const refusing = await startTestSimulator({ assets: 0, seed: 43 });
    try {
      const control = controlClient(refusing);
      const first = await control.mutate<{ assets: { assetRecordName: string }[] }>({
        op: 'add',
        kind: 'photo',
        count: 20,
        sizeBytes: 4096,
      });
      const signedIn = await signInToSimulator(refusing, join(dir, 'refusing-session.json'));
      const strict: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.1, maxDeleteCount: 1000 };
      const options = {
        dataDir: join(dir, 'refusing-archive'),
        ...signedIn,
        deletePolicy: strict,
        sharedAlbums: { enabled: false, cadenceMs: 0 },
        logger: createLogger({ level: 'SILENT' }),
      };
      expect((await runLocalSync(options)).outcome).toBe('succeeded');
      // New photos first in the change feed (a page of them and more), then purges past the limit.
      await control.mutate({ op: 'add', kind: 'photo', count: 150, sizeBytes: 4096 });
      for (const victim of first.assets.slice(0, 10))
        await control.mutate({ op: 'purge', assetRecordName: victim.assetRecordName });

      const refused = await runLocalSync(options);

      expect(refused.outcome).toBe('deletionRefused');
      expect(refused.assets.deleted).toBe(0);
      // The earlier pages' tokens moved on: their photos are archived by this run, not left behind.
      expect(refused.assets.archived).toBeGreaterThan(0);
      expect(refused.assets.archived).toBeLessThan(150);
      // The summary counts what those pages enqueued (a refusal used to report none).
      expect(refused.itemsEnqueued).toBeGreaterThanOrEqual(refused.assets.archived);
      expect(refused.workParked).toBe(0);
      expect(refused.deadLetters).toBe(0);
      // Their journal is folded by this run too: the catalog lists them, no journal object waits.
      const contents = await readBucketContents(options.dataDir);
      expect(contents.records).toHaveLength(20 + refused.assets.archived);
      expect([...contents.objects.keys()].filter((key) => key.startsWith('catalog/journal/'))).toEqual([]);
    } finally {
      await refusing.stop();
    }
  });
});
