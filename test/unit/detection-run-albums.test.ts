/**
 * One detection run and the album store (issue 12: fixed requests of a first sync): the walk, the
 * album views and the catalog's album lookups of one run read each album's members and the album
 * list once, as the deployed detector wires them (`detectorRunDeps`), over in-memory stores.
 */
import { describe, expect, it } from 'vitest';
import { runDetection } from '#app/detection-run.ts';
import { detectorRunDeps } from '#compose/detector-deps.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { AlbumRef } from '#domain/model/album.ts';
import type { Album } from '#domain/model/asset.ts';
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

/** The in-memory store with its album reads counted (its real semantics underneath). */
class ReadCountingStore extends InMemorySyncStateStore {
  memberReads = 0;
  listReads = 0;
  override async albumMembers(album: AlbumRef) {
    this.memberReads += 1;
    return super.albumMembers(album);
  }
  override async loadAlbums() {
    this.listReads += 1;
    return super.loadAlbums();
  }
}

const album = (recordName: string, name: string, extra: Partial<Album> = {}): Album => ({
  zone: PRIMARY,
  recordName,
  name,
  albumType: 0,
  isDeleted: false,
  ...extra,
});

function setUp(now: () => number = Date.now) {
  const source = new LibraryAssetSource({ pageSize: 10 });
  const zone = source.addZone(PRIMARY, 25);
  zone.albums.push({ album: album('F1', 'Reisen', { albumType: 3 }), members: [] });
  for (let i = 0; i < 5; i += 1)
    zone.albums.push({
      album: album(`A${i}`, `Tag ${i}`, i % 2 === 0 ? { parentId: 'F1' } : {}),
      members: zone.library
        .slice(i, i + 3)
        .map((a, position) => ({ assetRecordName: a.assetRecordName, position })),
    });
  const state = new ReadCountingStore();
  const objects = new InMemoryObjectStore();
  const deps = detectorRunDeps(
    {
      state,
      albums: state,
      objects,
      queue: new InMemoryWorkQueue(),
      sharedAlbumState: new InMemorySharedAlbumStateStore(),
      icloud: async () => ({
        session: { storedAt: Date.now(), save: async () => undefined },
        source,
        requests: { counts: () => ({}), total: () => 0 },
      }),
    },
    {
      deletePolicy: DEFAULT_DELETE_POLICY,
      versionPolicy: DEFAULT_VERSION_POLICY,
      reserveMs: 1,
      sharedAlbums: { enabled: false, cadenceMs: 0 },
      xmpSidecars: false,
      logger: createLogger({ level: 'SILENT' }),
      metrics: new CollectedMetrics(),
      now,
    },
  );
  return { state, objects, deps, source, zone };
}

describe('a detection run reads the album store once (issue 12)', () => {
  it("walks five albums and writes their views with one read of each album's members and one of the album list", async () => {
    const { state, objects, deps } = setUp();

    const result = await runDetection(deps, { runId: 'r1', remainingMs: () => 600_000 });

    expect(result.outcome).toBe('caughtUp');
    // The walk reads each album's stored members once (to replace them); the views use the same.
    expect(state.memberReads).toBe(5);
    expect(state.listReads).toBe(1);
    // And the views list what the walk recorded.
    const keys = objects.keys().filter((k) => k.startsWith('albums/') && k.endsWith('.m3u8'));
    expect(keys).toHaveLength(5);
    for (let i = 0; i < 5; i += 1)
      expect(await state.albumMembers({ zone: PRIMARY, recordName: `A${i}` })).toHaveLength(3);
  });
});

describe('a detection run whose album walk could not read an album (the deletion audit, 2026-12-07)', () => {
  it("keeps the album's view, says so, and walks the albums again on the next run", async () => {
    const { state, objects, deps, source, zone } = setUp();
    expect((await runDetection(deps, { runId: 'r1', remainingMs: () => 600_000 })).outcome).toBe('caughtUp');
    const views = () => objects.keys().filter((k) => k.startsWith('albums/') && k.endsWith('.m3u8'));
    expect(views()).toHaveLength(5);

    // A refused token walks the zone afresh; CloudKit answers album A1 as an error entry.
    const list = source.listAlbums.bind(source);
    source.listAlbums = async (...args) => {
      const page = await list(...args);
      return {
        ...page,
        albums: page.albums.filter((a) => a.recordName !== 'A1'),
        problems: [
          new UnexpectedResponseError('CloudKit could not serve record A1 in records/query: THROTTLED'),
        ],
      };
    };
    zone.expired.add((await state.loadZone(PRIMARY))?.syncToken ?? '');
    source.change('PrimarySync', [
      { type: 'album', album: album('A0', 'Tag 0 (renamed)', { parentId: 'F1' }) },
    ]);
    const warned: string[] = [];
    const warn = deps.logger.warn.bind(deps.logger);
    deps.logger.warn = ((message: string, ...rest: unknown[]) => {
      warned.push(message);
      return warn(message, ...(rest as []));
    }) as typeof deps.logger.warn;

    expect((await runDetection(deps, { runId: 'r2', remainingMs: () => 600_000 })).outcome).toBe('caughtUp');

    expect(views()).toHaveLength(5);
    expect(await state.loadAlbum({ zone: PRIMARY, recordName: 'A1' })).toMatchObject({ deleted: false });
    expect(warned).toContain('album walk read only part of the albums; walked again later');
    expect((await state.loadZone(PRIMARY))?.albumsWalkedAt).toBeUndefined();
  });

  it('counts in WorkGivenUp, once, albums still read only in part a day after the first such walk', async () => {
    let time = Date.UTC(2026, 11, 7);
    const { state, deps, source, zone } = setUp(() => time);
    await runDetection(deps, { runId: 'r0', remainingMs: () => 600_000 });
    const list = source.listAlbums.bind(source);
    source.listAlbums = async (...args) => {
      const page = await list(...args);
      return {
        ...page,
        albums: page.albums.filter((a) => a.recordName !== 'A1'),
        problems: [
          new UnexpectedResponseError('CloudKit could not serve record A1 in records/query: THROTTLED'),
        ],
      };
    };
    zone.expired.add((await state.loadZone(PRIMARY))?.syncToken ?? '');
    source.change('PrimarySync', [
      { type: 'album', album: album('A0', 'Tag 0 (renamed)', { parentId: 'F1' }) },
    ]);
    const metrics = deps.metrics as CollectedMetrics;
    const givenUp = () => metrics.values.get('workGivenUp') ?? 0;
    for (let run = 1; run <= 24; run += 1) {
      time += 2 * 60 * 60 * 1000;
      await runDetection(deps, { runId: `r${run}`, remainingMs: () => 600_000 });
      // Nothing before a day has passed since the first walk with problems (run 1).
      if (run <= 12) expect(givenUp()).toBe(0);
    }
    expect(givenUp()).toBe(1);
  });
});
