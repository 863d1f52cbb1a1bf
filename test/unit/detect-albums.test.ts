/**
 * Albums in change detection, over the library-backed fake source: a first sync walks the albums
 * after the photos and before the token, resumes the walk where a run stopped, and later deltas
 * record album records and memberships, with no request beyond the delta's own.
 */
import { describe, expect, it } from 'vitest';
import { PAGES_BETWEEN_SAVES } from '#domain/albums/walk-albums.ts';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import { parseZoneCheckpoint } from '#domain/detect/zone-checkpoint.ts';
import type { Album } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };

class NullQueue implements WorkQueue {
  readonly sent: WorkMessage[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    this.sent.push(...messages);
    return { requested: messages.length, sent: messages.length };
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

function setUp() {
  const source = new LibraryAssetSource({ pageSize: 10 });
  const zone = source.addZone(PRIMARY, 25);
  zone.albums.push(
    { album: album('F1', 'Reisen', { albumType: 3 }), members: [] },
    {
      album: album('A1', 'Lissabon', { parentId: 'F1' }),
      members: zone.library.slice(0, 12).map((a, i) => ({ assetRecordName: a.assetRecordName, position: i })),
    },
    {
      album: album('A2', 'Porto'),
      members: [{ assetRecordName: zone.library[20]!.assetRecordName, position: 5 }],
    },
  );
  const state = new InMemorySyncStateStore();
  // Time runs out once the first album's members are read (when `stopAfterFirstAlbum`).
  let stopAfterFirstAlbum = false;
  let outOfTime = false;
  const read = source.albumMembersPage.bind(source);
  source.albumMembersPage = async (...args) => {
    const page = await read(...args);
    if (stopAfterFirstAlbum && page.next === undefined) outOfTime = true;
    return page;
  };
  const queue = new NullQueue();
  const deps = (runId: string): DetectDeps => ({
    source,
    state,
    albums: state,
    queue,
    now: () => 1_000,
    remainingMs: () => (outOfTime ? 0 : 60_000),
    reserveMs: 1,
    runId,
    deletePolicy: DEFAULT_DELETE_POLICY,
  });
  const limit = (stop: boolean) => {
    stopAfterFirstAlbum = stop;
    outOfTime = false;
  };
  return { source, zone, state, deps, limit, queue };
}

describe('albums in change detection', () => {
  it('walks every album after the photos, then saves the token', async () => {
    const { source, state, deps } = setUp();
    const result = await detectChanges(deps('r1'));
    expect(result.outcome).toBe('caughtUp');
    expect((await state.loadAlbums()).map((a) => a.name).sort()).toEqual(['Lissabon', 'Porto', 'Reisen']);
    expect((await state.albumMembers({ zone: PRIMARY, recordName: 'A1' })).length).toBe(12);
    expect((await state.loadZone(PRIMARY))?.syncToken).toBeDefined();
    // A folder has no view: nothing for the view writer to write for it (issue 12).
    expect(await state.loadAlbum({ zone: PRIMARY, recordName: 'F1' })).toMatchObject({ viewStale: false });
    expect(await state.loadAlbum({ zone: PRIMARY, recordName: 'A1' })).toMatchObject({ viewStale: true });
    // Top level, the folder's children; Lissabon in two pages of 10, Porto in one.
    expect(source.calls.filter((c) => c.startsWith('listAlbums')).length).toBe(2);
    expect(source.calls.filter((c) => c.startsWith('albumMembersPage')).length).toBe(3);
  });

  it('resumes a walk a run could not finish at the next album, and only then saves the token', async () => {
    const { source, state, deps, limit } = setUp();
    limit(true);
    const first = await detectChanges(deps('r1'));
    expect(first.outcome).toBe('continued');
    expect((await state.loadZone(PRIMARY))?.syncToken).toBeUndefined();
    expect((await state.loadAlbums()).length).toBe(3);
    // The top level first (Porto), then the folder's albums (Lissabon): time ran out after Porto.
    expect((await state.albumMembers({ zone: PRIMARY, recordName: 'A2' })).length).toBe(1);
    expect((await state.albumMembers({ zone: PRIMARY, recordName: 'A1' })).length).toBe(0);
    limit(false);
    source.calls.length = 0;
    const second = await detectChanges(deps('r2'));
    expect(second.outcome).toBe('caughtUp');
    // Neither the photos nor the album list nor Porto again: only Lissabon's two pages.
    expect(source.calls.filter((c) => !c.startsWith('changedZones'))).toEqual([
      'albumMembersPage:PrimarySync',
      'albumMembersPage:PrimarySync',
    ]);
    expect((await state.albumMembers({ zone: PRIMARY, recordName: 'A1' })).length).toBe(12);
    expect((await state.loadZone(PRIMARY))?.syncToken).toBeDefined();
  });

  it('records a renamed album and a membership from the delta with no album request', async () => {
    const { source, state, deps, zone } = setUp();
    await detectChanges(deps('r1'));
    source.calls.length = 0;
    const joining = zone.library[21]!.assetRecordName;
    source.change('PrimarySync', [
      { type: 'album', album: album('A2', 'Porto 2024') },
      {
        type: 'albumMembership',
        zone: PRIMARY,
        assetRecordName: joining,
        albumRecordName: 'A2',
        present: true,
        position: 9,
      },
    ]);
    await detectChanges(deps('r2'));
    expect(source.calls.filter((c) => c.includes('lbum'))).toEqual([]);
    const porto = await state.loadAlbum({ zone: PRIMARY, recordName: 'A2' });
    expect(porto).toMatchObject({ name: 'Porto 2024', viewStale: true });
    expect((await state.albumMembers({ zone: PRIMARY, recordName: 'A2' })).at(-1)?.assetRecordName).toBe(
      joining,
    );
  });

  it('marks stale the views of the albums a changed photo is in, and no other', async () => {
    const { source, state, deps, zone } = setUp();
    await detectChanges(deps('r1'));
    for (const recordName of ['A1', 'A2']) {
      const stored = (await state.loadAlbum({ zone: PRIMARY, recordName }))!;
      const { updatedAt: _u, revision, ...rest } = stored;
      await state.saveAlbum({ ...rest, viewStale: false }, revision);
    }
    const trashed = { ...zone.library[3]!, isDeleted: true };
    source.change('PrimarySync', [{ type: 'asset', asset: trashed }]);
    await detectChanges(deps('r2'));
    expect((await state.loadAlbum({ zone: PRIMARY, recordName: 'A1' }))?.viewStale).toBe(true);
    expect((await state.loadAlbum({ zone: PRIMARY, recordName: 'A2' }))?.viewStale).toBe(false);
  });

  it('turns a deleted album into each of its photos leaving it: iCloud sends the album record alone', async () => {
    const { source, state, deps, queue } = setUp();
    await detectChanges(deps('r1'));
    queue.sent.length = 0;
    source.change('PrimarySync', [
      { type: 'album', album: album('A1', 'Lissabon', { parentId: 'F1', isDeleted: true }) },
    ]);
    await detectChanges(deps('r2'));
    const left = queue.sent.flatMap((m) => m.items);
    expect(left).toHaveLength(12);
    expect(left.every((i) => i.type === 'albumMembership' && i.albumRecordName === 'A1' && !i.present)).toBe(
      true,
    );
    expect(await state.loadAlbum({ zone: PRIMARY, recordName: 'A1' })).toMatchObject({ deleted: true });
    expect(await state.albumMembers({ zone: PRIMARY, recordName: 'A1' })).toEqual([]);
    // Deleted once: the same record again ends nothing more.
    queue.sent.length = 0;
    source.change('PrimarySync', [
      { type: 'album', album: album('A1', 'Lissabon', { parentId: 'F1', isDeleted: true }) },
    ]);
    await detectChanges(deps('r3'));
    expect(queue.sent).toEqual([]);
  });
  it('saves no progress of a walk of ten small albums: the token ends it (issue 12)', async () => {
    const { zone, state, deps } = setUp();
    for (let i = 0; i < 8; i += 1)
      zone.albums.push({
        album: album(`B${i}`, `Tag ${i}`),
        members: [{ assetRecordName: zone.library[i]!.assetRecordName, position: 0 }],
      });
    let walkSaves = 0;
    const saveZone = state.saveZone.bind(state);
    state.saveZone = async (next, revision) => {
      if (parseZoneCheckpoint(next.checkpoint).albums !== undefined) walkSaves += 1;
      return saveZone(next, revision);
    };
    const result = await detectChanges(deps('r1'));
    expect(result.outcome).toBe('caughtUp');
    // The list and the ten albums' members (a few requests to Apple in all), then the token.
    expect(walkSaves).toBe(0);
    expect((await state.loadZone(PRIMARY))?.syncToken).toBeDefined();
    expect((await state.albumMembers({ zone: PRIMARY, recordName: 'B7' })).length).toBe(1);
  });

  it('saves a long walk after PAGES_BETWEEN_SAVES pages read: a crash redoes no more', async () => {
    const { zone, state, deps } = setUp();
    for (let i = 0; i < PAGES_BETWEEN_SAVES + 5; i += 1)
      zone.albums.push({ album: album(`C${i}`, `Tag ${i}`), members: [] });
    const pendingAtSaves: number[] = [];
    const saveZone = state.saveZone.bind(state);
    state.saveZone = async (next, revision) => {
      const walk = parseZoneCheckpoint(next.checkpoint).albums;
      if (walk !== undefined) pendingAtSaves.push(walk.pending.length);
      return saveZone(next, revision);
    };
    await detectChanges(deps('r1'));
    // Seven list pages (ten albums a page here: six of the top level, the folder's), then 43
    // one-page albums; the rest ends with the token.
    const albums = PAGES_BETWEEN_SAVES + 5 + 2;
    expect(pendingAtSaves).toEqual([albums - (PAGES_BETWEEN_SAVES - 7)]);
  });

  it('resumes a walk a crash stopped at its last saved point: every album recorded once the token moves', async () => {
    const { source, zone, state, deps } = setUp();
    for (let i = 0; i < 8; i += 1)
      zone.albums.push({
        album: album(`B${i}`, `Tag ${i}`),
        members: [{ assetRecordName: zone.library[i]!.assetRecordName, position: i }],
      });
    const read = source.albumMembersPage.bind(source);
    let pagesBeforeCrash = 6;
    source.albumMembersPage = async (...args) => {
      if (pagesBeforeCrash-- === 0) throw new Error('the process died');
      return read(...args);
    };
    await expect(detectChanges(deps('r1'))).rejects.toThrow('the process died');
    expect((await state.loadZone(PRIMARY))?.syncToken).toBeUndefined();
    await state.releaseLock({ name: 'detect-changes', owner: 'r1', expiresAt: Number.MAX_SAFE_INTEGER });
    pagesBeforeCrash = Number.POSITIVE_INFINITY;
    source.calls.length = 0;
    const second = await detectChanges(deps('r2'));
    expect(second.outcome).toBe('caughtUp');
    // No album left out: the walk restarts at its saved point (here: the enumeration's last
    // page, whose work is enqueued again, then the whole walk), and not the photos before it.
    expect(source.calls.filter((c) => c.startsWith('enumeratePage')).length).toBeLessThanOrEqual(1);
    for (let i = 0; i < 8; i += 1)
      expect(await state.albumMembers({ zone: PRIMARY, recordName: `B${i}` })).toEqual([
        { assetRecordName: zone.library[i]!.assetRecordName, position: i },
      ]);
    expect((await state.albumMembers({ zone: PRIMARY, recordName: 'A1' })).length).toBe(12);
    expect((await state.loadZone(PRIMARY))?.syncToken).toBeDefined();
  });

  describe('a zone first synced before albums were recorded (2026-12-06)', () => {
    /** The first sync as a release without albums ran it: no album store, no walk, no record of one. */
    async function syncedBeforeAlbums(setup: ReturnType<typeof setUp>) {
      const { albums: _none, ...older } = setup.deps('r0');
      expect((await detectChanges(older)).outcome).toBe('caughtUp');
      const zone = await setup.state.loadZone(PRIMARY);
      expect(zone?.albumsWalkedAt).toBeUndefined();
      return zone!;
    }

    it('walks its albums once on the next run, keeps its token, and records the walk', async () => {
      const setup = setUp();
      const { source, state, deps } = setup;
      const before = await syncedBeforeAlbums(setup);
      source.calls.length = 0;
      const result = await detectChanges(deps('r1'));
      expect(result.outcome).toBe('caughtUp');
      expect((await state.loadAlbums()).map((a) => a.name).sort()).toEqual(['Lissabon', 'Porto', 'Reisen']);
      expect((await state.albumMembers({ zone: PRIMARY, recordName: 'A1' })).length).toBe(12);
      expect(await state.loadAlbum({ zone: PRIMARY, recordName: 'A1' })).toMatchObject({ viewStale: true });
      const after = await state.loadZone(PRIMARY);
      expect(after).toMatchObject({ syncToken: before.syncToken, albumsWalkedAt: 1_000 });
      // Not a full scan: no photo was walked again.
      expect(source.calls.filter((c) => c.startsWith('enumeratePage'))).toEqual([]);
      // Recorded: the next run is idle again, its one request the database's.
      source.calls.length = 0;
      expect((await detectChanges(deps('r2'))).outcome).toBe('idle');
      expect(source.calls).toEqual(['changedZones:private']);
    });

    it('resumes a walk the deadline stopped, then puts the token back', async () => {
      const setup = setUp();
      const { state, deps, limit } = setup;
      const before = await syncedBeforeAlbums(setup);
      limit(true);
      expect((await detectChanges(deps('r1'))).outcome).toBe('continued');
      expect(parseZoneCheckpoint((await state.loadZone(PRIMARY))?.checkpoint).albums).toMatchObject({
        capturedToken: before.syncToken,
        only: true,
      });
      limit(false);
      expect((await detectChanges(deps('r2'))).outcome).toBe('caughtUp');
      expect((await state.albumMembers({ zone: PRIMARY, recordName: 'A1' })).length).toBe(12);
      const after = await state.loadZone(PRIMARY);
      expect(after).toMatchObject({ syncToken: before.syncToken, albumsWalkedAt: 1_000 });
      expect(after?.lastFullScanAt).toBe(before.lastFullScanAt);
    });

    it('records the walk of a first sync, so it is never walked again', async () => {
      const { state, deps } = setUp();
      await detectChanges(deps('r1'));
      expect((await state.loadZone(PRIMARY))?.albumsWalkedAt).toBe(1_000);
    });
  });
});
