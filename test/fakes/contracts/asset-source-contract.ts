/**
 * The behaviour every `AssetSource` must have, as change detection relies on it: the CloudKit
 * adapter against the simulator and the library-backed double of the detection tests run it.
 * Pages are always resumed the way the pipeline does between Lambda invocations: the cursor goes
 * through JSON and the next page is asked of a reopened source.
 */
import { describe, expect, it } from 'vitest';
import { StaleSyncTokenError, ZoneNotFoundError } from '#domain/errors.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type {
  AlbumMembersCursor,
  AssetSource,
  EnumerationCursor,
  ZoneChangesCursor,
} from '#ports/asset-source.ts';

export interface PhotoNames {
  readonly assetRecordName: string;
  readonly masterRecordName: string;
}

/** One library behind a source, and the means to change it. */
export interface AssetSourceHarness {
  readonly source: AssetSource;
  /** A new source over the same library: a restarted process resuming from a persisted cursor. */
  reopen(): Promise<AssetSource>;
  /** The photo zone the tests read. */
  readonly zone: ZoneRef;
  /** A zone that does not exist. */
  readonly missingZone: ZoneRef;
  /** True when the source pairs CloudKit's halves itself and the library splits pairs across pages. */
  readonly splitsPairs: boolean;
  /** Asset record names of the zone's library scope (not hidden, not in Recently Deleted). */
  libraryAssetNames(): Promise<readonly string[]>;
  /** Adds photos to the zone. */
  addPhotos(count: number): Promise<readonly PhotoNames[]>;
  /** Moves a photo to Recently Deleted. */
  trash(photo: PhotoNames): Promise<void>;
  /** Deletes a photo for good (CloudKit's tombstones). */
  purge(photo: PhotoNames): Promise<void>;
  /** Makes `token` one the source will refuse (as CloudKit refuses an expired or foreign token). */
  expire(token: string): Promise<void>;
  /** Record name of an album of the zone whose members span at least three contents pages. */
  longAlbum(): Promise<string>;
  /** Asset record names of the album's members now, in album order. */
  albumMemberNames(album: string): Promise<readonly string[]>;
  /** Takes a photo out of the album (it stays in the library). */
  leaveAlbum(album: string, assetRecordName: string): Promise<void>;
}

const roundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const assetChanges = (changes: readonly ZoneChange[]) =>
  changes.flatMap((c) => (c.type === 'asset' ? [c.asset] : []));

/** Walks a whole enumeration, every page from a reopened source and a JSON cursor. */
async function enumerateAll(h: AssetSourceHarness) {
  const changes: ZoneChange[] = [];
  let cursor: EnumerationCursor | undefined;
  let source = h.source;
  let carriedHalves = false;
  for (let page = 0; page < 500; page++) {
    const result = await source.enumeratePage(h.zone, cursor);
    expect(result.problems).toEqual([]);
    changes.push(...result.changes);
    cursor = roundTrip(result.cursor);
    if (result.done) return { changes, cursor, carriedHalves };
    if ((cursor.unpaired?.masters.length ?? 0) + (cursor.unpaired?.assets.length ?? 0) > 0) {
      carriedHalves = true;
    }
    source = await h.reopen();
  }
  throw new Error('the enumeration never ended');
}

/** Reads the change feed from `syncToken` to its end, resuming like `enumerateAll`. */
async function readFeed(h: AssetSourceHarness, syncToken: string) {
  const changes: ZoneChange[] = [];
  const unpairedMasters: string[] = [];
  let cursor: ZoneChangesCursor = { syncToken };
  let source = h.source;
  let carriedHalves = false;
  for (let page = 0; page < 500; page++) {
    const result = await source.zoneChangesPage(h.zone, cursor);
    expect(result.problems).toEqual([]);
    changes.push(...result.changes);
    unpairedMasters.push(...result.unpairedMasters);
    cursor = roundTrip(result.cursor);
    if (!result.moreComing) return { changes, syncToken: result.syncToken, unpairedMasters, carriedHalves };
    if ((cursor.unpaired?.masters.length ?? 0) + (cursor.unpaired?.assets.length ?? 0) > 0) {
      carriedHalves = true;
    }
    source = await h.reopen();
  }
  throw new Error('the change feed never ended');
}

/** The zone token a complete enumeration leaves, from which the feed is caught up. */
async function caughtUpToken(h: AssetSourceHarness): Promise<string> {
  const { cursor } = await enumerateAll(h);
  expect(cursor.syncToken).toEqual(expect.any(String));
  return cursor.syncToken as string;
}

export function describeAssetSourceContract(name: string, create: () => Promise<AssetSourceHarness>): void {
  describe(`${name} (AssetSource contract)`, () => {
    it('lists its photo zone in the database that holds it', async () => {
      const h = await create();
      expect(await h.source.discoverZones()).toContainEqual(expect.objectContaining(h.zone));
    });

    it('enumerates every photo of the library once, resumed from a JSON cursor by a new instance after every page', async () => {
      const h = await create();
      const expected = await h.libraryAssetNames();

      const { changes, carriedHalves } = await enumerateAll(h);

      const names = assetChanges(changes).map((a) => a.assetRecordName);
      expect([...names].sort()).toEqual([...expected].sort());
      expect(new Set(names).size).toBe(names.length);
      for (const asset of assetChanges(changes)) expect(asset.masterRecordName).not.toBe('');
      // Halves split by a page boundary travel in the cursor (by name) and still pair.
      expect(carriedHalves).toBe(h.splitsPairs);
    });

    it('reads every photo still in the library when photos already read are trashed mid-walk (finding 17)', async () => {
      const h = await create();
      const changes: ZoneChange[] = [];
      let cursor: EnumerationCursor | undefined;
      let source = h.source;
      const trashed: string[] = [];
      for (let page = 0; page < 500; page++) {
        const result = await source.enumeratePage(h.zone, cursor);
        changes.push(...result.changes);
        cursor = roundTrip(result.cursor);
        if (result.done) break;
        // After the second page: the two first photos read leave the index, every later rank moves down.
        if (page === 1) {
          for (const asset of assetChanges(changes).slice(0, 2)) {
            await h.trash(asset);
            trashed.push(asset.assetRecordName);
          }
        }
        source = await h.reopen();
      }

      const names = new Set(assetChanges(changes).map((a) => a.assetRecordName));
      expect(trashed).toHaveLength(2);
      for (const name of await h.libraryAssetNames()) expect(names).toContain(name);
    });

    it('ends an enumeration with a zone token from which the change feed is caught up, idempotently', async () => {
      const h = await create();
      const token = await caughtUpToken(h);

      const first = await h.source.zoneChangesPage(h.zone, { syncToken: token });
      const again = await h.source.zoneChangesPage(h.zone, { syncToken: first.syncToken });

      expect(assetChanges(first.changes)).toEqual([]);
      expect(first.moreComing).toBe(false);
      expect(again).toMatchObject({ moreComing: false, syncToken: first.syncToken });
    });

    it('delivers new photos once each, paired, across pages resumed by new instances; the end token is caught up', async () => {
      const h = await create();
      const token = await caughtUpToken(h);
      const added = await h.addPhotos(3);

      const feed = await readFeed(h, token);

      const delivered = assetChanges(feed.changes).map((a) => ({
        assetRecordName: a.assetRecordName,
        masterRecordName: a.masterRecordName,
      }));
      const byName = (a: PhotoNames, b: PhotoNames) => a.assetRecordName.localeCompare(b.assetRecordName);
      expect(delivered.sort(byName)).toEqual([...added].sort(byName));
      expect(feed.unpairedMasters).toEqual([]);
      expect(feed.carriedHalves).toBe(h.splitsPairs);
      const replay = await h.source.zoneChangesPage(h.zone, { syncToken: feed.syncToken });
      expect(assetChanges(replay.changes)).toEqual([]);
      expect(replay).toMatchObject({ moreComing: false, syncToken: feed.syncToken });
    });

    it('reports a trashed photo as a change of that photo with isDeleted', async () => {
      const h = await create();
      const [photo] = await h.addPhotos(1);
      const token = await caughtUpToken(h);
      await h.trash(photo as PhotoNames);

      const feed = await readFeed(h, token);

      expect(assetChanges(feed.changes)).toContainEqual(
        expect.objectContaining({ assetRecordName: photo?.assetRecordName, isDeleted: true }),
      );
      expect(await h.libraryAssetNames()).not.toContain(photo?.assetRecordName);
    });

    it('reports a purged photo as a tombstone of its asset', async () => {
      const h = await create();
      const [photo] = await h.addPhotos(1);
      const token = await caughtUpToken(h);
      await h.purge(photo as PhotoNames);

      const feed = await readFeed(h, token);

      expect(feed.changes).toContainEqual(
        expect.objectContaining({ type: 'tombstone', recordName: photo?.assetRecordName }),
      );
      expect(assetChanges(feed.changes).map((a) => a.assetRecordName)).not.toContain(photo?.assetRecordName);
    });

    it('refuses a token CloudKit no longer accepts with StaleSyncTokenError', async () => {
      const h = await create();
      const token = await caughtUpToken(h);
      await h.expire(token);

      await expect(h.source.zoneChangesPage(h.zone, { syncToken: token })).rejects.toBeInstanceOf(
        StaleSyncTokenError,
      );
    });

    it('refuses a database token CloudKit no longer accepts with StaleSyncTokenError naming the database', async () => {
      const h = await create();
      const { syncToken } = await h.source.changedZones(h.zone.database);
      await h.expire(syncToken);

      await expect(h.source.changedZones(h.zone.database, syncToken)).rejects.toMatchObject({
        name: 'StaleSyncTokenError',
        database: h.zone.database,
      });
      expect((await h.source.changedZones(h.zone.database)).zones).toContainEqual(
        expect.objectContaining(h.zone),
      );
    });

    it('answers ZoneNotFoundError for a zone that does not exist, in the change feed and in enumerations', async () => {
      const h = await create();

      await expect(h.source.zoneChangesPage(h.missingZone)).rejects.toBeInstanceOf(ZoneNotFoundError);
      await expect(h.source.enumeratePage(h.missingZone)).rejects.toBeInstanceOf(ZoneNotFoundError);
    });

    it('reads every member still in an album when members already read leave it mid-walk (finding 31)', async () => {
      const h = await create();
      const album = await h.longAlbum();
      const read: string[] = [];
      const left: string[] = [];
      let cursor: AlbumMembersCursor | undefined;
      let source = h.source;
      for (let page = 0; page < 500; page++) {
        const result = await source.albumMembersPage(h.zone, album, cursor);
        expect(result.problems).toEqual([]);
        read.push(...result.members.map((m) => m.assetRecordName));
        if (result.next === undefined) break;
        cursor = roundTrip(result.next);
        // After the first page: two members read leave the album, every later rank moves down.
        if (page === 0) {
          for (const name of read.slice(0, 2)) {
            await h.leaveAlbum(album, name);
            left.push(name);
          }
        }
        source = await h.reopen();
      }

      expect(left).toHaveLength(2);
      const members = await h.albumMemberNames(album);
      for (const name of members) expect(read).toContain(name);
      expect(new Set(read).size).toBe(read.length);
    });

    it('reports the zone as changed without a database token, and with one only after the zone changed', async () => {
      const h = await create();
      const all = await h.source.changedZones(h.zone.database);
      expect(all.zones).toContainEqual(expect.objectContaining(h.zone));

      const quiet = await h.source.changedZones(h.zone.database, all.syncToken);
      expect(quiet.zones.map((z) => z.zoneName)).not.toContain(h.zone.zoneName);

      await h.addPhotos(1);
      const changed = await h.source.changedZones(h.zone.database, quiet.syncToken);
      expect(changed.zones).toContainEqual(expect.objectContaining(h.zone));
    });
  });
}
