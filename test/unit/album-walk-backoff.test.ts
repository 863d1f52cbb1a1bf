/**
 * An album walk that keeps meeting an album CloudKit serves as an error item. A walk with problems
 * deletes nothing and is not recorded as done, so it is walked again; before session 15 it was
 * walked again on every scheduled run for ever, each idle run then costing the whole walk's
 * requests instead of one. It now backs off as a failed photo's retries do (the next three runs,
 * then 1, 2, 4, 8, 16 hours apart, then daily), deletes nothing meanwhile, and is told once a day
 * after the first walk with problems (`albumWalkFailingSince`: the WorkGivenUp alarm, and status).
 */
import { describe, expect, it } from 'vitest';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Album } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { archiveStatus } from '#domain/verify/archive-status.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const MINUTE = 60_000;
const album = (recordName: string, name: string): Album => ({
  zone: ZONE,
  recordName,
  name,
  albumType: 0,
  isDeleted: false,
});

class NullQueue implements WorkQueue {
  async enqueue(messages: readonly unknown[]): Promise<EnqueueReceipt> {
    return { requested: messages.length, sent: messages.length };
  }
}

/** A synced zone with two albums; from `breakPorto()` on, every list serves Porto as an error item. */
function setUp() {
  const source = new LibraryAssetSource({ pageSize: 10 });
  const zone = source.addZone(ZONE, 5);
  zone.albums.push(
    { album: album('A1', 'Lissabon'), members: [] },
    { album: album('A2', 'Porto'), members: [] },
  );
  const state = new InMemorySyncStateStore();
  let time = 1_000;
  const deps = (runId: string): DetectDeps => ({
    source,
    state,
    albums: state,
    queue: new NullQueue(),
    now: () => time,
    remainingMs: () => 60_000,
    reserveMs: 1,
    runId,
    deletePolicy: DEFAULT_DELETE_POLICY,
  });
  const breakPorto = () => {
    const list = source.listAlbums.bind(source);
    source.listAlbums = async (...args) => {
      const page = await list(...args);
      return {
        ...page,
        albums: page.albums.filter((a) => a.recordName !== 'A2'),
        problems: [
          new UnexpectedResponseError('CloudKit could not serve record A2 in records/query: THROTTLED'),
        ],
      };
    };
  };
  const advance = (ms: number) => {
    time += ms;
  };
  return { source, zone, state, deps, breakPorto, advance, now: () => time };
}

describe('an album walk that meets an unreadable album on every walk', () => {
  it('is walked again with a backoff, not on every run, and deletes nothing meanwhile', async () => {
    const { source, zone, state, deps, breakPorto, advance } = setUp();
    expect((await detectChanges(deps('r0'))).outcome).toBe('caughtUp');
    // A refused token: the zone is walked afresh, and Porto comes as an error item from now on.
    breakPorto();
    zone.expired.add((await state.loadZone(ZONE))?.syncToken ?? '');
    source.change('PrimarySync', [{ type: 'album', album: album('A1', 'Lisboa') }]);
    source.calls.length = 0;
    // 26 hours of scheduled runs, every 15 minutes.
    for (let run = 1; run <= 104; run += 1) {
      advance(15 * MINUTE);
      await detectChanges(deps(`r${run}`));
    }
    const walks = source.calls.filter((c) => c.startsWith('listAlbums')).length;
    // The walk after the refused token, two more quick ones, then 1, 2, 4, 8 hours apart, and
    // the one a day after the first that tells (before: one a run, 104).
    expect(walks).toBe(8);
    // Every other run is idle: its one request the database's.
    expect(source.calls.filter((c) => c.startsWith('changedZones')).length).toBe(104);
    expect((await state.loadAlbum({ zone: ZONE, recordName: 'A2' }))?.deleted).toBe(false);
    expect((await state.loadZone(ZONE))?.albumsWalkedAt).toBeUndefined();
  });

  it('is told once, a day after its first walk with problems, and shown by status', async () => {
    const { source, zone, state, deps, breakPorto, advance, now } = setUp();
    await detectChanges(deps('r0'));
    breakPorto();
    zone.expired.add((await state.loadZone(ZONE))?.syncToken ?? '');
    source.change('PrimarySync', [{ type: 'album', album: album('A1', 'Lisboa') }]);
    advance(15 * MINUTE);
    const firstProblems = now();
    await detectChanges(deps('r1'));
    const told: number[] = [];
    for (let run = 2; run <= 300; run += 1) {
      advance(15 * MINUTE);
      const result = await detectChanges(deps(`r${run}`));
      for (const report of result.zones)
        if (report.albumWalkFailingSince !== undefined) told.push(report.albumWalkFailingSince);
    }
    expect(told).toEqual([firstProblems]);
    const status = archiveStatus({
      now: now(),
      runs: [],
      databases: [],
      zones: await state.loadZones(),
      manifest: {
        entries: 0,
        byStatus: { archived: 0, pending: 0, failed: 0, trashed: 0, purged: 0 },
        objects: 0,
        bytes: 0,
      },
      counters: { objects: 0, bytes: 0 },
    });
    expect(status.zones[0]?.albumsReadInPart).toMatchObject({ since: firstProblems });
  });

  it('is recorded as done, and no longer walked, once a walk reads every album', async () => {
    const { source, zone, state, deps, breakPorto, advance } = setUp();
    await detectChanges(deps('r0'));
    const list = source.listAlbums.bind(source);
    breakPorto();
    zone.expired.add((await state.loadZone(ZONE))?.syncToken ?? '');
    source.change('PrimarySync', [{ type: 'album', album: album('A1', 'Lisboa') }]);
    advance(15 * MINUTE);
    await detectChanges(deps('r1'));
    source.listAlbums = list;
    advance(15 * MINUTE);
    expect((await detectChanges(deps('r2'))).outcome).toBe('caughtUp');
    const zoneState = await state.loadZone(ZONE);
    expect(zoneState?.albumsWalkedAt).toBeDefined();
    source.calls.length = 0;
    advance(15 * MINUTE);
    expect((await detectChanges(deps('r3'))).outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
  });
});
