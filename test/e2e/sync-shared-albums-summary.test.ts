/**
 * What `sync` and `sync --dry-run` say about Shared Albums (docs/commands.md, `sync`): a run that
 * stored a new Shared Album's photos did something (not `idle`, "Nothing changed in iCloud") and
 * counts them in its summary; the dry run plans those photos, writing nothing, so the real run
 * after it still stores them all.
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
  dir = await mkdtemp(join(tmpdir(), 'sync-shared-summary-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const mutate = <T = Record<string, unknown>>(m: unknown) =>
  controlClient(sim).call<T>('POST', '/sharedstreams/mutate', m);
const addAlbum = (name: string, items: number) =>
  mutate<{ albumguid: string }>({ op: 'addAlbum', name, items });
const itemsOf = async (albumguid: string) =>
  (
    await controlClient(sim).call<{ albums: { albumguid: string; items: { assetGuid: string }[] }[] }>(
      'GET',
      '/sharedstreams',
    )
  ).albums.find((a) => a.albumguid === albumguid)?.items ?? [];

describe('sync and Shared Albums', () => {
  it("counts a new Shared Album's stored photos and calls the run `succeeded`, not `idle`", async () => {
    const dataDir = join(dir, 'stored');
    await runLocalSync({ dataDir, ...signedIn, logger });
    await addAlbum('Garden 2026', 2);

    const real = await runLocalSync({ dataDir, ...signedIn, logger });

    expect(real.appleRequests).toMatchObject({ 'sharedstreams/webgetassets': 1, cdn: 2 });
    expect(real.outcome).toBe('succeeded');
    expect(real.sharedAlbums).toMatchObject({ itemsArchived: 2, itemsUpdated: 0, itemsRemoved: 0 });
    expect(real.sharedAlbums?.bytesArchived).toBeGreaterThan(0);
  });

  it('stays `idle` with no Shared Album counts when nothing changed', async () => {
    const dataDir = join(dir, 'stored');

    const again = await runLocalSync({ dataDir, ...signedIn, logger });

    expect(again.outcome).toBe('idle');
    expect(again.sharedAlbums).toBeUndefined();
  });

  it('plans the photos of a new Shared Album in a dry run, writing nothing: the next sync stores them all', async () => {
    const dataDir = join(dir, 'planned');
    await runLocalSync({ dataDir, ...signedIn, logger });
    await addAlbum('Beach 2026', 3);

    const dry = await runLocalSync({ dataDir, ...signedIn, logger, dryRun: true });
    const real = await runLocalSync({ dataDir, ...signedIn, logger });

    expect(dry.outcome).toBe('dryRun');
    // The listing and the album's one page, as the real run asks; no download, no comments.
    expect(dry.appleRequests).toMatchObject({ 'sharedstreams/webgetassets': 1 });
    expect(dry.appleRequests).not.toHaveProperty('cdn');
    expect(dry.sharedAlbums).toMatchObject({ itemsArchived: 3, itemsUpdated: 0, itemsRemoved: 0 });
    expect(real.sharedAlbums).toMatchObject({ itemsArchived: 3 });
    expect(real.sharedAlbums?.bytesArchived).toBe(dry.sharedAlbums?.bytesArchived);
  });

  it('plans a new item, a commented one and a removed one as the next sync then archives, updates and removes them', async () => {
    const dataDir = join(dir, 'changed');
    const album = await addAlbum('Picnic 2026', 3);
    await runLocalSync({ dataDir, ...signedIn, logger });
    const [first, second] = await itemsOf(album.albumguid);
    await mutate({ op: 'addItems', albumguid: album.albumguid, count: 1 });
    await mutate({
      op: 'comment',
      albumguid: album.albumguid,
      assetGuid: first!.assetGuid,
      who: 'owner',
      text: 'Lovely',
    });
    await mutate({ op: 'removeItem', albumguid: album.albumguid, assetGuid: second!.assetGuid });

    const dry = await runLocalSync({ dataDir, ...signedIn, logger, dryRun: true });
    const real = await runLocalSync({ dataDir, ...signedIn, logger });

    expect(dry.sharedAlbums).toMatchObject({ itemsArchived: 1, itemsUpdated: 1, itemsRemoved: 1 });
    expect(real.sharedAlbums).toMatchObject({ itemsArchived: 1, itemsUpdated: 1, itemsRemoved: 1 });
  });
});
