import { describe, expect, it } from 'vitest';
import { CloudKitAssetSource } from '#adapters/icloud/cloudkit/cloudkit-asset-source.ts';
import { CloudKitClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import { StaleSyncTokenError, ZoneNotFoundError } from '#domain/errors.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { ZoneChangesCursor } from '#ports/asset-source.ts';
import { asset, master, NO_TOKEN, ScriptedCloudKit, tombstone } from '#test/fixtures/scripted-cloudkit.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const M1 = 'AbCdEfGhIjKlMnOpQrStUvWx+/01';
const M2 = 'AbCdEfGhIjKlMnOpQrStUvWx+/02';
const A1 = '11111111-1111-4111-8111-111111111111';
const A2 = '22222222-2222-4222-8222-222222222222';

function setUp(cloudKit = new ScriptedCloudKit()) {
  const client = new CloudKitClient({
    http: cloudKit,
    ckdatabasewsUrl: () => 'https://p42-ckdatabasews.icloud.com:443',
    dsid: '12345',
    clientId: 'CLIENT',
    retry: {
      sleep: async () => {},
      policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 },
    },
  });
  return { cloudKit, client, source: new CloudKitAssetSource({ client }) };
}

const assetNames = (changes: readonly ZoneChange[]) =>
  changes.flatMap((c) =>
    c.type === 'asset' ? [`${c.asset.assetRecordName}+${c.asset.masterRecordName}`] : [],
  );

describe('zone changes feed', () => {
  it('pairs a master and its asset that arrive on different pages', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.changePages.set(NO_TOKEN, {
      records: [master(M1, 'IMG_1.HEIC')],
      syncToken: 'T1',
      moreComing: true,
    });
    cloudKit.changePages.set('T1', { records: [asset(A1, M1)], syncToken: 'T2', moreComing: false });

    const first = await source.zoneChangesPage(PRIMARY);
    const second = await source.zoneChangesPage(PRIMARY, first.cursor);

    expect(first.changes).toEqual([]);
    expect(first.cursor).toEqual({ syncToken: 'T1', unpaired: { masters: [M1], assets: [] } });
    expect(assetNames(second.changes)).toEqual([`${A1}+${M1}`]);
    expect(second).toMatchObject({ moreComing: false, syncToken: 'T2', cursor: { syncToken: 'T2' } });
  });

  it('pairs across a restart by fetching the halves named in the persisted cursor', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.changePages.set(NO_TOKEN, { records: [asset(A1, M1)], syncToken: 'T1', moreComing: true });
    cloudKit.changePages.set('T1', {
      records: [master(M1, 'IMG_1.HEIC')],
      syncToken: 'T2',
      moreComing: false,
    });
    cloudKit.records.set(A1, asset(A1, M1, { isFavorite: { value: 1, type: 'INT64' } }));
    const persisted = JSON.parse(JSON.stringify((await source.zoneChangesPage(PRIMARY)).cursor));

    const restarted = setUp(cloudKit).source;
    const page = await restarted.zoneChangesPage(PRIMARY, persisted);

    expect(cloudKit.sentTo('records/lookup').at(-1)?.json['records']).toEqual([{ recordName: A1 }]);
    const paired = page.changes.find((c) => c.type === 'asset');
    expect(paired?.type === 'asset' && paired.asset).toMatchObject({ assetRecordName: A1, isFavorite: true });
  });

  it('S143: reports a carried half that lookup answers with an error entry, instead of dropping it silently', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.changePages.set(NO_TOKEN, { records: [asset(A1, M1)], syncToken: 'T1', moreComing: true });
    cloudKit.changePages.set('T1', { records: [], syncToken: 'T2', moreComing: false });
    cloudKit.records.set(A1, { recordName: A1, serverErrorCode: 'NOT_FOUND', reason: 'Record not found' });
    const persisted = JSON.parse(JSON.stringify((await source.zoneChangesPage(PRIMARY)).cursor));

    const page = await setUp(cloudKit).source.zoneChangesPage(PRIMARY, persisted);

    expect(page.changes).toEqual([]);
    expect(page.problems.map((p) => p.message)).toEqual([
      `CloudKit could not serve record ${A1} in records/lookup: NOT_FOUND`,
    ]);
  });

  it('keeps reading through empty pages that say more is coming', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.changePages.set(NO_TOKEN, { records: [], syncToken: 'T1', moreComing: true });
    cloudKit.changePages.set('T1', { records: [], syncToken: 'T2', moreComing: true });
    cloudKit.changePages.set('T2', {
      records: [master(M1, 'a.HEIC'), asset(A1, M1)],
      syncToken: 'T3',
      moreComing: false,
    });

    const pages = [];
    let cursor: ZoneChangesCursor | undefined;
    do {
      const page = await source.zoneChangesPage(PRIMARY, cursor);
      pages.push(page);
      cursor = page.cursor;
    } while (pages.at(-1)?.moreComing);

    expect(pages.map((p) => p.changes.length)).toEqual([0, 0, 1]);
  });

  it('reads moreComing null as more when the token moved and as caught up when it did not', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.changePages.set('T1', { records: [], syncToken: 'T2', moreComing: null });
    cloudKit.changePages.set('T2', { records: [], syncToken: 'T2', moreComing: null });

    expect((await source.zoneChangesPage(PRIMARY, { syncToken: 'T1' })).moreComing).toBe(true);
    expect((await source.zoneChangesPage(PRIMARY, { syncToken: 'T2' })).moreComing).toBe(false);
  });

  it('never sends an absent or empty token as ""', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.changePages.set(NO_TOKEN, { records: [], syncToken: 'T1', moreComing: false });

    await source.zoneChangesPage(PRIMARY);
    await source.zoneChangesPage(PRIMARY, { syncToken: '' });
    await source.zoneChangesPage(PRIMARY, {});

    for (const request of cloudKit.sentTo('changes/zone')) {
      expect(request.json['zones'][0]).not.toHaveProperty('syncToken');
    }
    expect(cloudKit.sentTo('changes/zone')).toHaveLength(3);
  });

  it('turns a refused token into StaleSyncTokenError and a missing zone into ZoneNotFoundError', async () => {
    const { cloudKit, source } = setUp();
    await expect(source.zoneChangesPage(PRIMARY, { syncToken: 'garbage' })).rejects.toBeInstanceOf(
      StaleSyncTokenError,
    );
    cloudKit.queued.push({
      status: 200,
      body: JSON.stringify({
        zones: [{ zoneID: { zoneName: 'SharedSync' }, serverErrorCode: 'ZONE_NOT_FOUND', reason: 'x' }],
      }),
    });
    await expect(
      source.zoneChangesPage({ database: 'private', zoneName: 'SharedSync' }, { syncToken: 'T1' }),
    ).rejects.toBeInstanceOf(ZoneNotFoundError);
  });

  it('ends the feed with lone assets as asset-only changes and reports lone masters', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.changePages.set('T1', {
      records: [asset(A1, M1, { isHidden: { value: 1, type: 'INT64' } }), master(M2, 'b.HEIC')],
      syncToken: 'T2',
      moreComing: false,
    });
    const page = await source.zoneChangesPage(PRIMARY, { syncToken: 'T1' });
    expect(page.changes.map((c) => c.type)).toEqual(['assetOnly']);
    expect(page.unpairedMasters).toEqual([M2]);
  });

  it('filters record types client-side and maps tombstones and memberships', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.changePages.set('T1', {
      records: [
        { recordName: 'PrimarySync-0000-LI', recordType: 'CPLLibraryInfo', recordChangeTag: 'x', fields: {} },
        tombstone(M2),
        tombstone(`${A2}-IN-ALBUM-1`),
      ],
      syncToken: 'T2',
      moreComing: false,
    });
    const page = await source.zoneChangesPage(PRIMARY, { syncToken: 'T1' });
    expect(page.changes).toEqual([
      {
        type: 'albumMembership',
        zone: PRIMARY,
        assetRecordName: A2,
        albumRecordName: 'ALBUM-1',
        present: false,
      },
      { type: 'tombstone', zone: PRIMARY, recordName: M2, inferredType: 'CPLMaster' },
    ]);
  });
});

describe('full enumeration by records/query', () => {
  it('pairs a pair split across pages, pages by rank alone and keeps the first page token', async () => {
    const { cloudKit, client } = setUp();
    const source = new CloudKitAssetSource({ client, pageSize: 4 });
    cloudKit.counts.set('CPLAssetByAssetDateWithoutHiddenOrDeleted', 2);
    // Two photos a page, overlapping one: the second page starts at rank 1, M2's.
    cloudKit.queryPages.set('rank:0', {
      records: [master(M1, 'a.HEIC'), master(M2, 'b.HEIC'), asset(A1, M1)],
      continuationMarker: 'MK1',
    });
    cloudKit.queryPages.set('rank:1', { records: [master(M2, 'b.HEIC'), asset(A2, M2)] });

    const first = await source.enumeratePage(PRIMARY);
    const second = await source.enumeratePage(PRIMARY, first.cursor);

    expect(assetNames(first.changes)).toEqual([`${A1}+${M1}`]);
    expect(first.cursor).toMatchObject({
      startRank: 1,
      overlap: [A1, M2],
      syncToken: 'QUERY-TOKEN',
      expectedCount: 2,
    });
    expect(first.cursor.continuationMarker).toBeUndefined();
    expect(first.cursor.unpaired).toEqual({ masters: [M2], assets: [] });
    expect(assetNames(second.changes)).toEqual([`${A2}+${M2}`]);
    // Rank 1 again holds nothing new and is short: the end, as the count says.
    const third = await source.enumeratePage(PRIMARY, second.cursor);
    expect(third).toMatchObject({ changes: [], done: true });
    expect(cloudKit.sentTo('records/query').map((r) => r.json['continuationMarker'])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(cloudKit.sentTo('internal/records/query/batch')).toHaveLength(1);
  });

  it('probes past an empty page inside the counted range', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.counts.set('CPLAssetByAssetDateWithoutHiddenOrDeleted', 150);
    cloudKit.queryPages.set('rank:100', { records: [master(M1, 'a.HEIC'), asset(A1, M1)] });

    const first = await source.enumeratePage(PRIMARY);
    expect(first.done).toBe(false);
    const second = await source.enumeratePage(PRIMARY, first.cursor);
    expect(assetNames(second.changes)).toEqual([`${A1}+${M1}`]);
    const third = await source.enumeratePage(PRIMARY, second.cursor);
    expect([third.done, third.cursor.startRank]).toEqual([false, 201]);
    const fourth = await source.enumeratePage(PRIMARY, third.cursor);
    expect(fourth.done).toBe(true);
  });

  it('gives up after five empty pages in a row when the index has no count', async () => {
    const { cloudKit, source } = setUp();
    let page = await source.enumeratePage(PRIMARY);
    while (!page.done) page = await source.enumeratePage(PRIMARY, page.cursor);
    expect(cloudKit.sentTo('records/query')).toHaveLength(6);
  });

  it('looks up the master of an asset still alone when the index is exhausted', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.counts.set('CPLAssetByAssetDateWithoutHiddenOrDeleted', 1);
    cloudKit.queryPages.set('rank:0', { records: [asset(A1, M1)] });
    cloudKit.records.set(M1, master(M1, 'late.HEIC'));

    const first = await source.enumeratePage(PRIMARY);
    const last = await source.enumeratePage(PRIMARY, first.cursor);
    expect(last.done).toBe(true);
    expect(assetNames(last.changes)).toEqual([`${A1}+${M1}`]);
  });
});

/** Photo `n` as the all-photos index serves it: its master and asset. */
const photoNames = (n: number) => ({
  master: `AbCdEfGhIjKlMnOpQrStUvWx+${String(n).padStart(3, '0')}`,
  asset: `${String(n).padStart(8, '0')}-1111-4111-8111-111111111111`,
});

/** Serves `photos` by rank, masters first then assets, `perPage` photos a page, as Apple does. */
function serveByRank(cloudKit: ScriptedCloudKit, photos: readonly number[], perPage: number) {
  cloudKit.queryPages.clear();
  for (let rank = 0; rank < photos.length; rank++) {
    const page = photos.slice(rank, rank + perPage).map(photoNames);
    cloudKit.queryPages.set(`rank:${rank}`, {
      records: [
        ...page.map((p, i) => master(p.master, `IMG_${photos[rank + i]}.HEIC`)),
        ...page.map((p) => asset(p.asset, p.master)),
      ],
    });
  }
}

/** Walks the index to its end, calling `between(page)` after each page; returns the photos seen. */
async function walk(source: CloudKitAssetSource, between: (page: number) => void = () => {}) {
  const seen: string[] = [];
  let page = await source.enumeratePage(PRIMARY);
  for (let n = 1; n < 100; n++) {
    seen.push(...assetNames(page.changes));
    if (page.done) return seen;
    between(n);
    page = await source.enumeratePage(PRIMARY, page.cursor);
  }
  throw new Error('the walk never ended');
}

describe('a walk while photos leave the index (finding 17)', () => {
  const all = Array.from({ length: 30 }, (_, n) => n);
  const named = (ns: readonly number[]) => ns.map((n) => `${photoNames(n).asset}+${photoNames(n).master}`);

  it('reads every photo still there when one already read leaves between two pages', async () => {
    const { cloudKit, client } = setUp();
    const source = new CloudKitAssetSource({ client, pageSize: 20 });
    cloudKit.counts.set('CPLAssetByAssetDateWithoutHiddenOrDeleted', 30);
    serveByRank(cloudKit, all, 10);
    const left = all.filter((n) => n !== 0);

    const seen = await walk(source, (page) => page === 1 && serveByRank(cloudKit, left, 10));

    expect(new Set(seen)).toEqual(new Set([...named([0]), ...named(left)]));
    expect(seen).toHaveLength(30);
  });

  it('steps back and reads every photo when more than a page leave between two pages', async () => {
    const { cloudKit, client } = setUp();
    const source = new CloudKitAssetSource({ client, pageSize: 20 });
    cloudKit.counts.set('CPLAssetByAssetDateWithoutHiddenOrDeleted', 30);
    serveByRank(cloudKit, all, 10);
    const left = all.filter((n) => n < 3 || n > 15);

    const seen = await walk(source, (page) => page === 2 && serveByRank(cloudKit, left, 10));

    for (const name of named(left)) expect(seen).toContain(name);
  });

  it('reads every photo when the photos the next page looks for are the ones that left', async () => {
    const { cloudKit, client } = setUp();
    const source = new CloudKitAssetSource({ client, pageSize: 20 });
    cloudKit.counts.set('CPLAssetByAssetDateWithoutHiddenOrDeleted', 30);
    serveByRank(cloudKit, all, 10);
    const left = all.filter((n) => n < 5 || n > 9);

    const seen = await walk(source, (page) => page === 1 && serveByRank(cloudKit, left, 10));

    for (const name of named(left)) expect(seen).toContain(name);
  });

  it('ends when the records it looks for are error entries or masters still waiting', async () => {
    const { cloudKit, client } = setUp();
    const source = new CloudKitAssetSource({ client, pageSize: 20 });
    cloudKit.counts.set('CPLAssetByAssetDateWithoutHiddenOrDeleted', 8);
    serveByRank(cloudKit, all.slice(0, 8), 10);
    // Photo 7's asset comes as an error entry on every page: its master waits, its name is parked.
    const unreadable = photoNames(7).asset;
    for (const page of cloudKit.queryPages.values()) {
      page.records = page.records.map((r) =>
        (r as { recordName?: string }).recordName === unreadable
          ? { recordName: unreadable, serverErrorCode: 'INTERNAL_ERROR', reason: 'unavailable' }
          : r,
      );
    }

    const seen = await walk(source);

    expect(seen).toEqual(named(all.slice(0, 7)));
    expect(cloudKit.sentTo('records/query').length).toBeLessThanOrEqual(3);
  });

  it('costs no extra request on a quiet library and reads each photo once', async () => {
    const { cloudKit, client } = setUp();
    const source = new CloudKitAssetSource({ client, pageSize: 20 });
    cloudKit.counts.set('CPLAssetByAssetDateWithoutHiddenOrDeleted', 30);
    serveByRank(cloudKit, all, 10);

    const seen = await walk(source);

    expect(seen).toEqual(named(all));
    // Ten photos a page, two of them read again: ranks 0, 8, 16, 24 and the end at 28.
    expect(
      cloudKit.sentTo('records/query').map((r) => r.json['query']['filterBy'][0].fieldValue.value),
    ).toEqual([0, 8, 16, 24, 28]);
  });
});

describe('zones, counts and lookups', () => {
  it('discovers PrimarySync and SharedSync zones in their databases and skips the rest', async () => {
    const { cloudKit, source } = setUp();
    const zone = (zoneName: string, extra: object = {}) => ({
      zoneID: { zoneName, ownerRecordName: '_owner' },
      ...extra,
    });
    cloudKit.zones.private = [
      zone('PrimarySync'),
      zone('SharedSync-AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE'),
      zone('CMM-12345678-1234-1234-1234-123456789012'),
      zone('AppLibrarySync-com.apple.GenerativePlayground-12345678-1234-1234-1234-123456789012'),
      zone('SharedSync-11111111-2222-4333-8444-555555555555', { deleted: true }),
      zone('SharedSync'),
      zone('CustomZone'),
    ];
    cloudKit.zones.shared = [zone('PrimarySync'), zone('SharedSync-99999999-2222-4333-8444-555555555555')];

    expect(await source.discoverZones()).toEqual([
      { database: 'private', zoneName: 'PrimarySync' },
      { database: 'private', zoneName: 'SharedSync-AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE' },
      {
        database: 'shared',
        zoneName: 'SharedSync-99999999-2222-4333-8444-555555555555',
        ownerRecordName: '_owner',
      },
    ]);
  });

  it('S141: skips a failed zones/list entry although it still names a SharedSync zone (S139: and CMM zones anywhere)', async () => {
    const { cloudKit, source } = setUp();
    const zone = (zoneName: string, extra: object = {}) => ({
      zoneID: { zoneName, ownerRecordName: '_owner', zoneType: 'REGULAR_CUSTOM_ZONE' },
      ...extra,
    });
    cloudKit.zones.private = [
      zone('PrimarySync'),
      zone('SharedSync-AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE', {
        serverErrorCode: 'ZONE_NOT_FOUND',
        reason: 'Zone fetch failed',
      }),
      zone('CMM-12345678-1234-4234-A234-123456789012'),
      zone('SharedCollection-12345678-1234-4234-A234-123456789012'),
    ];
    cloudKit.zones.shared = [zone('CMM-87654321-1234-4234-A234-123456789012')];

    expect(await source.discoverZones()).toEqual([{ database: 'private', zoneName: 'PrimarySync' }]);
    expect(cloudKit.sentTo('records/query')).toEqual([]);
  });

  it('counts every kind in one request and leaves out indexes the zone lacks', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.counts.set('CPLAssetByAssetDateWithoutHiddenOrDeleted', 7);
    cloudKit.counts.set('CPLAssetInSmartAlbumByAssetDate:Video', 2);
    const counts = await source.countAssets(PRIMARY);
    expect(counts).toMatchObject({ library: 7, videos: 2, hidden: undefined });
    expect(cloudKit.sent).toHaveLength(1);
  });

  it('refreshes assets in one lookup when the masters are named and two when not', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.records.set(A1, asset(A1, M1));
    cloudKit.records.set(M1, master(M1, 'a.HEIC'));

    const named = await source.lookupAssets(PRIMARY, [
      { assetRecordName: A1, masterRecordName: M1 },
      { assetRecordName: A2 },
    ]);
    expect(named.assets.map((a) => a.assetRecordName)).toEqual([A1]);
    // A2 came back as a NOT_FOUND entry: not returned this time, which is not proof of deletion.
    expect(named.unavailable).toEqual([{ assetRecordName: A2, reason: 'NOT_FOUND (Record not found)' }]);
    expect(named.missing).toEqual([]);
    expect(cloudKit.sentTo('records/lookup')).toHaveLength(1);

    await source.lookupAssets(PRIMARY, [{ assetRecordName: A1 }]);
    expect(cloudKit.sentTo('records/lookup')).toHaveLength(3);
  });

  it('S143: reports an asset whose own or master lookup came back as an error entry as unavailable, never missing', async () => {
    const { cloudKit, source } = setUp();
    cloudKit.records.set(A1, asset(A1, M1));
    cloudKit.records.set(M1, {
      recordName: M1,
      serverErrorCode: 'INTERNAL_ERROR',
      reason: 'Could not read record',
    });
    cloudKit.records.set(A2, { recordName: A2, serverErrorCode: 'NOT_FOUND' });
    cloudKit.records.set(M2, master(M2, 'b.HEIC'));

    const result = await source.lookupAssets(PRIMARY, [
      { assetRecordName: A1, masterRecordName: M1 },
      { assetRecordName: A2, masterRecordName: M2 },
    ]);

    expect(result.assets).toEqual([]);
    expect(result.missing).toEqual([]);
    expect(result.unavailable).toEqual([
      { assetRecordName: A1, reason: 'INTERNAL_ERROR (Could not read record)' },
      { assetRecordName: A2, reason: 'NOT_FOUND' },
    ]);
    // Only A2's own record was NOT_FOUND (how a purge looks); A1's master failing says nothing.
    expect(result.notFound).toEqual([A2]);
  });

  it("names in notFound only assets whose own record is NOT_FOUND, not a master's", async () => {
    const { cloudKit, source } = setUp();
    cloudKit.records.set(A1, asset(A1, M1));
    cloudKit.records.set(M1, { recordName: M1, serverErrorCode: 'NOT_FOUND' });
    const result = await source.lookupAssets(PRIMARY, [{ assetRecordName: A1, masterRecordName: M1 }]);
    expect(result.unavailable.map((u) => u.assetRecordName)).toEqual([A1]);
    expect(result.notFound).toEqual([]);
  });
});
