/**
 * `sync --concurrency N` is "the number of parallel downloads" (docs/commands.md): a local sync
 * has at most N downloads from the CDN open at any moment, however its pollers' batches and their
 * messages' items are split, Shared Album items included (the simulator's account has both kinds). The wrapper below only counts the downloads the real CdnDownloader
 * opens and when each one's body closes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const downloads = vi.hoisted(() => ({ open: 0, peak: 0, total: 0 }));

vi.mock('#adapters/icloud/cdn/cdn-downloader.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('#adapters/icloud/cdn/cdn-downloader.ts')>();
  class CountedCdnDownloader extends real.CdnDownloader {
    override async open(...args: Parameters<InstanceType<typeof real.CdnDownloader>['open']>) {
      downloads.open++;
      downloads.total++;
      downloads.peak = Math.max(downloads.peak, downloads.open);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        downloads.open--;
      };
      try {
        const download = await super.open(...args);
        download.body.once('close', close);
        return download;
      } catch (error) {
        close();
        throw error;
      }
    }
  }
  return { ...real, CdnDownloader: CountedCdnDownloader };
});

let sim: SimulatorHandle;
let dir: string;
beforeAll(async () => {
  sim = await startTestSimulator({ assets: 0, seed: 31 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-concurrency-'));
});
afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('sync --concurrency', () => {
  it('has at most that many downloads open at once, across every poller, message and item', async () => {
    // Photos large enough that downloads overlap: two messages' worth, so two pollers both work.
    await controlClient(sim).mutate({ op: 'add', kind: 'photo', count: 40, sizeBytes: 256 * 1024 });
    const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
    const summary = await runLocalSync({
      dataDir: join(dir, 'archive'),
      ...signedIn,
      concurrency: 2,
      logger: createLogger({ level: 'SILENT' }),
    });
    expect(summary.outcome).toBe('succeeded');
    expect(summary.assets.archived).toBe(40);
    // The library's 40 and the Shared Albums' items.
    expect(downloads.total).toBeGreaterThan(40);
    expect(downloads.open).toBe(0);
    expect(downloads.peak).toBeLessThanOrEqual(2);
    // Both slots were used: the bound is not bought by downloading one at a time.
    expect(downloads.peak).toBe(2);
  });
});
