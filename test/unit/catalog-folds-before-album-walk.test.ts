/**
 * A catalog fold before the zone's album walk has recorded its albums (a first sync: photos first,
 * then the albums). The catalog takes each record's albums from the album store, which knows a
 * first sync's memberships only once the walk has read them, and nothing journals the walk's
 * memberships: a record folded before the walk was written with no albums, and no later fold
 * touched it again. Two runs fold there: a run stopped by the sign-in latch (finding 101: the
 * fresh-clone CI's fault matrix, seed 99074, `reply:wrong-password-401|enqueue|before`) and, in
 * AWS, every run of a first sync longer than one invocation. The photos wait in the journal until
 * the walk is done, then fold with their albums. And a run that ends without reaching Apple (the
 * sign-in latch, a needed re-login, the mass-deletion stop) still folds what the workers archived,
 * so `catalog/` does not miss those photos while the account stays locked out.
 */
import { describe, expect, it } from 'vitest';
import { readText } from '#app/catalog-upkeep.ts';
import { runDetection } from '#app/detection-run.ts';
import { detectorRunDeps } from '#compose/detector-deps.ts';
import { CATALOG_JOURNAL_PREFIX } from '#domain/catalog/catalog-journal.ts';
import { CATALOG_SHARD_PREFIX, decodeShard } from '#domain/catalog/catalog-shard.ts';
import { SignInLatchedError } from '#domain/errors.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const PHOTOS = 30;

/** A 30-photo library (pages of 10) in two albums; the detector as deployed; workers as a loop. */
function setUp() {
  const source = new LibraryAssetSource({ pageSize: 10 });
  const zone = source.addZone(PRIMARY, PHOTOS);
  const inAlbum = (n: number) => (n % 2 === 0 ? 'EVEN' : 'ODD');
  for (const recordName of ['EVEN', 'ODD'])
    zone.albums.push({
      album: { zone: PRIMARY, recordName, name: recordName, albumType: 0, isDeleted: false },
      members: zone.library
        .filter((_, n) => inAlbum(n) === recordName)
        .map((a, position) => ({ assetRecordName: a.assetRecordName, position })),
    });
  const state = new InMemorySyncStateStore();
  const objects = new InMemoryObjectStore();
  const queue = new InMemoryWorkQueue();
  let latched = false;
  const deps = detectorRunDeps(
    {
      state,
      albums: state,
      objects,
      queue,
      sharedAlbumState: new InMemorySharedAlbumStateStore(),
      icloud: async () => {
        if (latched) throw new SignInLatchedError('sign-in needed', { since: Date.now() });
        return {
          session: { storedAt: Date.now(), save: async () => undefined },
          source,
          requests: { counts: () => ({}), total: () => 0 },
        };
      },
    },
    {
      deletePolicy: DEFAULT_DELETE_POLICY,
      versionPolicy: DEFAULT_VERSION_POLICY,
      reserveMs: 1,
      sharedAlbums: { enabled: false, cadenceMs: 0 },
      xmpSidecars: false,
      logger: createLogger({ level: 'SILENT' }),
      metrics: new CollectedMetrics(),
      now: Date.now,
    },
  );
  /** A run that may read `pages` pages (photos', albums') before its deadline (unbounded: all it needs). */
  const run = async (runId: string, pages = Number.POSITIVE_INFINITY) => {
    const started = source.calls.length;
    const read = () => source.calls.slice(started).filter((c) => !c.startsWith('changedZones')).length;
    const remainingMs = () => (read() >= pages ? 0 : 600_000);
    return (await runDetection(deps, { runId, remainingMs })).outcome;
  };
  /** The workers archive what waits on the queue (their entries, as a worker writes them). */
  const archive = async () => {
    for (const { message } of queue.receive(100))
      for (const item of message.items) {
        if (item.type !== 'asset') continue;
        const { asset } = item;
        await state.putEntry(
          {
            zone: asset.zone,
            assetRecordName: asset.assetRecordName,
            masterRecordName: asset.masterRecordName,
            assetChangeTag: asset.assetChangeTag,
            status: 'archived',
            flags: { isFavorite: false, isHidden: false, isDeleted: false },
            albums: [],
            versions: [],
            deletions: [],
          },
          0,
        );
      }
  };
  /** The catalog's records: each asset with its albums. */
  const catalog = async () => {
    const records = new Map<string, string>();
    for (const key of objects.keys().filter((k) => k.startsWith(CATALOG_SHARD_PREFIX)))
      for (const r of decodeShard((await readText(objects, key)) ?? ''))
        records.set(r.asset, r.albums.join());
    return records;
  };
  /** Records whose albums are not iCloud's. */
  const wrongAlbums = async () =>
    [...(await catalog())].filter(([asset, albums]) => albums !== inAlbum(Number(asset.split('-A')[1])));
  const journal = () => objects.keys().filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX));
  return {
    run,
    archive,
    catalog,
    wrongAlbums,
    journal,
    latch: (on: boolean) => {
      latched = on;
    },
  };
}

describe('a detection run stopped by the sign-in latch', () => {
  it('folds into the catalog the photos the workers archived since the last run', async () => {
    const { run, archive, journal, latch } = setUp();
    // The first run enqueues the photos; no worker has archived them when it folds.
    expect(await run('r1')).toBe('caughtUp');
    expect(journal().length).toBeGreaterThan(0);
    // The workers archive them, then the session dies.
    await archive();
    latch(true);

    expect(await run('r2')).toBe('reauthRequired');
    expect({ journalLeft: journal().length }).toEqual({ journalLeft: 0 });
  });
});

describe('a catalog fold before the album walk', () => {
  it('on a run stopped by the sign-in latch: the photos wait for the walk, then fold with their albums (seed 99074)', async () => {
    const { run, archive, catalog, wrongAlbums, journal, latch } = setUp();
    // The first sync reads one page of photos (10), then the invocation ends; the workers archive them.
    expect(await run('r1', 1)).toBe('continued');
    await archive();
    // The session dies: the latched run folds what the workers archived, before any album is known.
    latch(true);
    expect(await run('r2')).toBe('reauthRequired');
    expect({ latched: await wrongAlbums() }).toEqual({ latched: [] });
    expect(journal().length).toBeGreaterThan(0);

    // A person signs in; the first sync ends (the rest of the photos, then the albums) and folds.
    latch(false);
    expect(await run('r3')).toBe('caughtUp');
    await archive();
    expect(await run('r4')).toBe('idle');

    expect({ catalog: (await catalog()).size, wrongAlbums: await wrongAlbums() }).toEqual({
      catalog: PHOTOS,
      wrongAlbums: [],
    });
    expect(journal()).toEqual([]);
  });

  it('on each run of a first sync longer than one invocation: the photos fold with their albums', async () => {
    const { run, archive, catalog, wrongAlbums, journal } = setUp();
    const outcomes: string[] = [];
    // One page per invocation; the workers archive between runs.
    for (let i = 0; i < 20 && outcomes.at(-1) !== 'caughtUp'; i += 1) {
      outcomes.push(await run(`r${i}`, 1));
      await archive();
    }
    expect(outcomes.at(-1)).toBe('caughtUp');
    expect(await run('last')).toBe('idle');

    expect({ catalog: (await catalog()).size, wrongAlbums: await wrongAlbums() }).toEqual({
      catalog: PHOTOS,
      wrongAlbums: [],
    });
    expect(journal()).toEqual([]);
  });
});
