/**
 * The end of a local sync: once the workers have settled the work, the catalog fold (catalog/) and
 * the album views (albums/) are both derived from what they archived, each in objects of its own,
 * so they are built side by side and the run's tail is the longer of the two, not their sum.
 * Both functions are the real ones; the wrappers only note when each starts and ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

const events = vi.hoisted(() => [] as string[]);

vi.mock('#app/catalog-upkeep.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('#app/catalog-upkeep.ts')>();
  return {
    ...real,
    foldCatalog: async (...args: Parameters<typeof real.foldCatalog>) => {
      events.push('fold:start');
      try {
        return await real.foldCatalog(...args);
      } finally {
        events.push('fold:end');
      }
    },
  };
});
vi.mock('#app/album-views.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('#app/album-views.ts')>();
  return {
    ...real,
    refreshAlbumViews: async (...args: Parameters<typeof real.refreshAlbumViews>) => {
      events.push('views:start');
      try {
        return await real.refreshAlbumViews(...args);
      } finally {
        events.push('views:end');
      }
    },
  };
});

let sim: SimulatorHandle;
let dir: string;
beforeAll(async () => {
  sim = await startTestSimulator({ assets: 12, seed: 12 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-derived-'));
});
afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the end of a local sync', () => {
  it('writes the album views while the catalog folds, and both finish before the run ends', async () => {
    const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
    const summary = await runLocalSync({
      dataDir: join(dir, 'archive'),
      ...signedIn,
      logger: createLogger({ level: 'SILENT' }),
    });
    expect(summary.outcome).toBe('succeeded');
    expect(summary.assets.archived).toBeGreaterThan(0);
    expect(summary.albumViews?.written).toBeGreaterThan(0);
    expect(events.filter((e) => e.endsWith(':end')).sort()).toEqual(['fold:end', 'views:end']);
    expect(events.indexOf('views:start')).toBeLessThan(events.indexOf('fold:end'));
  });
});
