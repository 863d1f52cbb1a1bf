/**
 * An album walk whose pages came with problems (a record CloudKit served as an inline error item,
 * a record the mapping could not read) reads only part of what is there: what it did not read is
 * neither a deleted album nor a photo gone from an album. Found by the deletion audit (session 14):
 * the walk ignored the pages' problems, `recordAlbumList` marked the unreadable album deleted and
 * `replaceAlbumMembers` dropped the unreadable member, and the view writer then removed the view.
 */
import { describe, expect, it } from 'vitest';
import { recordAlbumList } from '#domain/albums/record-albums.ts';
import { walkAlbums } from '#domain/albums/walk-albums.ts';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { AlbumMember } from '#domain/model/album.ts';
import type { Album } from '#domain/model/asset.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import type { AlbumListPage, AlbumMembersPage, AssetSource } from '#ports/asset-source.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const album = (recordName: string, name: string, extra: Partial<Album> = {}): Album => ({
  zone: ZONE,
  recordName,
  name,
  albumType: 0,
  isDeleted: false,
  ...extra,
});
const errorItem = (recordName: string) =>
  new UnexpectedResponseError(`CloudKit could not serve record ${recordName} in records/query: THROTTLED`);

/** A source answering one album list page and one members page per album, as given. */
function sourceOf(list: AlbumListPage, members: Record<string, AlbumMembersPage> = {}): AssetSource {
  return {
    async listAlbums(): Promise<AlbumListPage> {
      return list;
    },
    async albumMembersPage(_zone: ZoneRef, recordName: string): Promise<AlbumMembersPage> {
      return members[recordName] ?? { members: [], problems: [] };
    },
  } as unknown as AssetSource;
}

const walkDeps = (source: AssetSource, albums: InMemorySyncStateStore) => ({
  source,
  albums,
  hasTimeFor: () => true,
  save: async () => undefined,
});

describe('an album walk whose album list came with problems', () => {
  it('does not take an album served as an error item for a deleted one, and reports the problem', async () => {
    const albums = new InMemorySyncStateStore();
    await recordAlbumList(albums, [album('ALB-1', 'Holidays'), album('ALB-2', 'Kids')], zoneId(ZONE));
    const source = sourceOf({ albums: [album('ALB-1', 'Holidays')], problems: [errorItem('ALB-2')] });
    const result = await walkAlbums(walkDeps(source, albums), ZONE, undefined);
    expect((await albums.loadAlbum({ zone: ZONE, recordName: 'ALB-2' }))?.deleted).toBe(false);
    expect(result).toMatchObject({ done: true, problems: 1 });
  });

  it('still marks deleted an album a clean list no longer holds (a delete a lost delta carried)', async () => {
    const albums = new InMemorySyncStateStore();
    await recordAlbumList(albums, [album('ALB-1', 'Holidays'), album('ALB-2', 'Kids')], zoneId(ZONE));
    const source = sourceOf({ albums: [album('ALB-1', 'Holidays')], problems: [] });
    const result = await walkAlbums(walkDeps(source, albums), ZONE, undefined);
    expect((await albums.loadAlbum({ zone: ZONE, recordName: 'ALB-2' }))?.deleted).toBe(true);
    expect(result).toMatchObject({ done: true, problems: 0 });
  });
});

describe('an album walk stopped by the deadline after a list with problems', () => {
  it('carries the problems in its progress, so the resumed walk still reports them', async () => {
    const albums = new InMemorySyncStateStore();
    const source = sourceOf({ albums: [album('ALB-1', 'Holidays')], problems: [errorItem('ALB-2')] });
    let time = true;
    const deps = { ...walkDeps(source, albums), hasTimeFor: () => time };
    const listAlbums = source.listAlbums.bind(source);
    source.listAlbums = async (...args) => {
      time = false;
      return listAlbums(...args);
    };
    const stopped = await walkAlbums(deps, ZONE, undefined);
    expect(stopped).toMatchObject({
      done: false,
      progress: { listed: true, pending: ['ALB-1'], problems: 1 },
    });
    time = true;
    const resumed = await walkAlbums(deps, ZONE, JSON.parse(JSON.stringify(stopped.progress)));
    expect(resumed).toMatchObject({ done: true, problems: 1 });
  });
});

describe('an album walk whose members page came with problems', () => {
  const ref = { zone: ZONE, recordName: 'ALB-1' };
  const member = (assetRecordName: string, position: number): AlbumMember => ({ assetRecordName, position });

  it('keeps a member served as an error item, and still adds and moves what it read', async () => {
    const albums = new InMemorySyncStateStore();
    await recordAlbumList(albums, [album('ALB-1', 'Holidays')], zoneId(ZONE));
    await albums.putAlbumMembers(ref, [member('P1', 0), member('P2', 1)]);
    const source = sourceOf(
      { albums: [album('ALB-1', 'Holidays')], problems: [] },
      { 'ALB-1': { members: [member('P1', 5), member('P3', 6)], problems: [errorItem('REL-P2')] } },
    );
    const result = await walkAlbums(walkDeps(source, albums), ZONE, undefined);
    const stored = (await albums.albumMembers(ref)).map((m) => `${m.assetRecordName}@${m.position}`).sort();
    expect(stored).toEqual(['P1@5', 'P2@1', 'P3@6']);
    expect(result).toMatchObject({ done: true, problems: 1 });
  });

  it('still removes a member a clean read no longer holds', async () => {
    const albums = new InMemorySyncStateStore();
    await recordAlbumList(albums, [album('ALB-1', 'Holidays')], zoneId(ZONE));
    await albums.putAlbumMembers(ref, [member('P1', 0), member('P2', 1)]);
    const source = sourceOf(
      { albums: [album('ALB-1', 'Holidays')], problems: [] },
      { 'ALB-1': { members: [member('P1', 0)], problems: [] } },
    );
    await walkAlbums(walkDeps(source, albums), ZONE, undefined);
    expect((await albums.albumMembers(ref)).map((m) => m.assetRecordName)).toEqual(['P1']);
  });
});

describe('detection after an album walk with problems', () => {
  class NullQueue implements WorkQueue {
    async enqueue(messages: readonly unknown[]): Promise<EnqueueReceipt> {
      return { requested: messages.length, sent: messages.length };
    }
  }

  it('does not record the walk, so the next run walks again and applies what a clean walk shows', async () => {
    const source = new LibraryAssetSource({ pageSize: 10 });
    const zone = source.addZone(ZONE, 5);
    zone.albums.push(
      { album: album('A1', 'Lissabon'), members: [] },
      { album: album('A2', 'Porto'), members: [] },
    );
    const state = new InMemorySyncStateStore();
    const deps = (runId: string): DetectDeps => ({
      source,
      state,
      albums: state,
      queue: new NullQueue(),
      now: () => 1_000,
      remainingMs: () => 60_000,
      reserveMs: 1,
      runId,
      deletePolicy: DEFAULT_DELETE_POLICY,
    });
    expect((await detectChanges(deps('r1'))).outcome).toBe('caughtUp');
    expect((await state.loadZone(ZONE))?.albumsWalkedAt).toBe(1_000);

    // A stale token: the zone is walked afresh, and Porto comes as an error item.
    const list = source.listAlbums.bind(source);
    let porto: 'error' | 'deleted' = 'error';
    source.listAlbums = async (...args) => {
      const page = await list(...args);
      const kept = page.albums.filter((a) => a.recordName !== 'A2');
      return porto === 'error'
        ? { ...page, albums: kept, problems: [errorItem('A2')] }
        : { ...page, albums: kept };
    };
    zone.expired.add((await state.loadZone(ZONE))?.syncToken ?? '');
    source.change('PrimarySync', [{ type: 'album', album: album('A1', 'Lisboa') }]);
    const walked = await detectChanges(deps('r2'));
    expect(walked.outcome).toBe('caughtUp');
    expect(walked.zones[0]).toMatchObject({ albumProblems: 1 });
    expect((await state.loadAlbum({ zone: ZONE, recordName: 'A2' }))?.deleted).toBe(false);
    expect((await state.loadZone(ZONE))?.albumsWalkedAt).toBeUndefined();

    // The next run walks the albums again; Porto is gone now, and a clean list says so.
    porto = 'deleted';
    expect((await detectChanges(deps('r3'))).outcome).toBe('caughtUp');
    expect((await state.loadAlbum({ zone: ZONE, recordName: 'A2' }))?.deleted).toBe(true);
    expect((await state.loadZone(ZONE))?.albumsWalkedAt).toBe(1_000);
  });
});
