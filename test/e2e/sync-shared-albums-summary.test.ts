/**
 * Audit 14 (docs): `sync --dry-run` "shows what would be archived" (docs/commands.md, `sync`), but
 * it never asks for the Shared Albums: a new Shared Album with photos that the next `sync` stores
 * is reported by the dry run as `idle`, nothing to archive.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const logger = createLogger({ level: 'SILENT' });
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;
let signedIn: SignedIn;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 6, seed: 5 });
  dir = await mkdtemp(join(tmpdir(), 'audit14-dry-shared-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sync --dry-run and Shared Albums', () => {
  it('plans the photos of a new Shared Album that the next sync archives', async () => {
    const dataDir = join(dir, 'archive');
    await runLocalSync({ dataDir, ...signedIn, logger });
    await controlClient(sim).call('POST', '/sharedstreams/mutate', {
      op: 'addAlbum',
      name: 'Beach 2026',
      items: 3,
    });

    const dry = await runLocalSync({ dataDir, ...signedIn, logger, dryRun: true });
    const real = await runLocalSync({ dataDir, ...signedIn, logger });

    const asked = (requests: Readonly<Record<string, number>>) =>
      Object.keys(requests).some((r) => r.startsWith('sharedstreams/'));
    // The real run fetched the album's items and downloaded them...
    expect(real.appleRequests).toMatchObject({ 'sharedstreams/webgetassets': expect.any(Number) });
    // ...which the dry run, "what a run would do", neither asked about nor planned.
    expect({ dryOutcome: dry.outcome, dryAskedSharedAlbums: asked(dry.appleRequests) }).toEqual({
      dryOutcome: 'dryRun',
      dryAskedSharedAlbums: true,
    });
  });

  it('says a sync that stored a new Shared Album\'s photos did something (`idle`: "nothing was downloaded")', async () => {
    const dataDir = join(dir, 'archive-2');
    await runLocalSync({ dataDir, ...signedIn, logger });
    await controlClient(sim).call('POST', '/sharedstreams/mutate', {
      op: 'addAlbum',
      name: 'Garden 2026',
      items: 2,
    });

    const real = await runLocalSync({ dataDir, ...signedIn, logger });

    // It downloaded the two photos from Apple's CDN...
    expect(real.appleRequests).toMatchObject({ 'sharedstreams/webgetassets': expect.any(Number), cdn: 2 });
    // ...and calls the run `idle`, which `sync` prints as "Nothing changed in iCloud".
    expect(real.outcome).not.toBe('idle');
  });
});
