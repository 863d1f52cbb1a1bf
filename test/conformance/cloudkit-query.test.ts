import { beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';

type CkRecord = {
  recordName: string;
  recordType?: string;
  fields?: Record<string, { value?: unknown; type?: string }>;
  serverErrorCode?: string;
};
type QueryReply = { records: CkRecord[]; continuationMarker?: string; syncToken?: string };

const ALL = 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted';
const eq = (fieldName: string, value: unknown, type = 'STRING') => ({
  fieldName,
  comparator: 'EQUALS',
  fieldValue: { type, value },
});

function query(ck: InProcessCloudKit, recordType: string, options: Record<string, unknown> = {}) {
  const {
    filters = [],
    zoneName = 'PrimarySync',
    database,
    who,
    ...rest
  } = options as {
    filters?: unknown[];
    zoneName?: string;
    database?: 'private' | 'shared';
    who?: 'owner' | 'member';
  };
  return ck.call<QueryReply>(
    'records/query',
    { query: { recordType, filterBy: filters }, zoneID: { zoneName }, ...rest },
    { ...(database ? { database } : {}), ...(who ? { who } : {}) },
  );
}

const rank = (n: number) => eq('startRank', n, 'INT64');
const direction = (d: string) => eq('direction', d);

async function count(ck: InProcessCloudKit, index: string, zoneName = 'PrimarySync'): Promise<number> {
  const { json } = await ck.call<{ batch: { records: CkRecord[] }[] }>('internal/records/query/batch', {
    batch: [
      {
        resultsLimit: 1,
        query: {
          recordType: 'HyperionIndexCountLookup',
          filterBy: {
            fieldName: 'indexCountID',
            comparator: 'IN',
            fieldValue: { type: 'STRING_LIST', value: [index] },
          },
        },
        zoneWide: true,
        zoneID: { zoneName },
      },
    ],
  });
  return json.batch[0]!.records[0]!.fields!.itemCount!.value as number;
}

describe('records/query (S55-S69)', () => {
  let ck: InProcessCloudKit;

  beforeAll(async () => {
    ck = await openInProcessCloudKit({ seed: 3, assets: 120 });
  });

  it('S55: CheckIndexingState answers FINISHED/100 with a fresh _<uuid> name per call', async () => {
    const a = await query(ck, 'CheckIndexingState');
    const b = await query(ck, 'CheckIndexingState');
    const record = a.json.records[0]!;
    expect(record.fields).toEqual({
      progress: { value: 100, type: 'INT64' },
      state: { value: 'FINISHED', type: 'STRING' },
    });
    expect(record.recordName).toMatch(/^_[0-9a-f-]{36}$/);
    expect(b.json.records[0]!.recordName).not.toBe(record.recordName);
  });

  it('S55: the indexing switch reports RUNNING with the configured progress', async () => {
    ck.library.quirks = { ...ck.library.quirks, indexingProgress: 42 };
    const { json } = await query(ck, 'CheckIndexingState');
    ck.library.quirks = { ...ck.library.quirks, indexingProgress: null };
    expect(json.records[0]!.fields).toMatchObject({ state: { value: 'RUNNING' }, progress: { value: 42 } });
  });

  it('S56: each list index returns the photos it names', async () => {
    const truth = (await ck.library.groundTruth({ sha256: false })).assets.filter(
      (a) => a.zone === 'PrimarySync',
    );
    const assetsOf = (r: QueryReply) =>
      r.records
        .filter((x) => x.recordType === 'CPLAsset')
        .map((x) => x.recordName)
        .sort();
    const names = (pred: (a: (typeof truth)[number]) => boolean) =>
      truth
        .filter(pred)
        .map((a) => a.assetRecordName)
        .sort();
    const everything: CkRecord[] = [];
    for (let r = 0; ; r += 100) {
      const page = await query(ck, ALL, { filters: [rank(r)], resultsLimit: 200 });
      if (page.json.records.length === 0) break;
      everything.push(...page.json.records);
    }
    expect(assetsOf({ records: everything })).toEqual(names((a) => !a.isDeleted && !a.isHidden));
    expect(
      assetsOf((await query(ck, 'CPLAssetAndMasterDeletedByExpungedDate', { resultsLimit: 200 })).json),
    ).toEqual(names((a) => a.isDeleted));
    expect(
      assetsOf((await query(ck, 'CPLAssetAndMasterHiddenByAssetDate', { resultsLimit: 200 })).json),
    ).toEqual(names((a) => a.isHidden && !a.isDeleted));
    const favorites = await query(ck, 'CPLAssetAndMasterInSmartAlbumByAssetDate', {
      filters: [eq('smartAlbum', 'FAVORITE')],
      resultsLimit: 200,
    });
    expect(assetsOf(favorites.json)).toEqual(names((a) => a.isFavorite && !a.isDeleted && !a.isHidden));
    for (const [smart, kinds] of [
      ['VIDEO', ['video', 'slomo', 'timelapse']],
      ['LIVE', ['live']],
      ['SCREENSHOT', ['screenshot']],
      ['PANORAMA', ['panorama']],
      ['SLOMO', ['slomo']],
      ['TIMELAPSE', ['timelapse']],
    ] as const) {
      const reply = await query(ck, 'CPLAssetAndMasterInSmartAlbumByAssetDate', {
        filters: [eq('smartAlbum', smart)],
        resultsLimit: 200,
      });
      expect(assetsOf(reply.json)).toEqual(
        names((a) => (kinds as readonly string[]).includes(a.kind) && !a.isDeleted && !a.isHidden),
      );
      expect(assetsOf(reply.json).length).toBeGreaterThan(0);
    }
    const bursts = await query(ck, 'CPLBurstStackAssetAndMasterByAssetDate', { resultsLimit: 200 });
    expect(assetsOf(bursts.json)).toEqual(names((a) => a.kind === 'burst' && !a.isDeleted && !a.isHidden));
    const albums = await query(ck, 'CPLAlbumByPositionLive');
    const holidays = albums.json.records.find(
      (r) => Buffer.from(String(r.fields?.albumNameEnc?.value), 'base64').toString() === 'Holidays 2019',
    )!;
    const content = await query(ck, 'CPLContainerRelationLiveByAssetDate', {
      filters: [eq('parentId', holidays.recordName)],
      resultsLimit: 198,
    });
    expect(assetsOf(content.json)).toEqual(
      names((a) => a.albumRecordNames.includes(holidays.recordName) && !a.isDeleted && !a.isHidden),
    );
  });

  it('S56: the album list returns the top level with sentinels, and a folder’s children with parentId', async () => {
    const top = await query(ck, 'CPLAlbumByPositionLive');
    const names = top.json.records.map((r) => r.recordName);
    expect(names).toContain('----Root-Folder----');
    const folder = top.json.records.find(
      (r) => r.fields?.albumType?.value === 3 && !r.recordName.startsWith('----'),
    )!;
    const children = await query(ck, 'CPLAlbumByPositionLive', {
      filters: [eq('parentId', folder.recordName)],
    });
    expect(children.json.records.length).toBeGreaterThan(0);
    expect(children.json.records.every((r) => r.fields?.parentId?.value === folder.recordName)).toBe(true);
  });

  it('S57: photo indexes give two records per photo and album contents three', async () => {
    const photos = await query(ck, ALL, { resultsLimit: 10 });
    expect(photos.json.records.map((r) => r.recordType).sort()).toEqual([
      ...Array(5).fill('CPLAsset'),
      ...Array(5).fill('CPLMaster'),
    ]);
    const albums = await query(ck, 'CPLAlbumByPositionLive');
    const album = albums.json.records.find(
      (r) => r.fields?.albumNameEnc && r.fields?.albumType?.value === 0,
    )!;
    const triples = await query(ck, 'CPLContainerRelationLiveByAssetDate', {
      filters: [eq('parentId', album.recordName)],
      resultsLimit: 198,
    });
    const types = triples.json.records.map((r) => r.recordType);
    expect(types.filter((t) => t === 'CPLContainerRelation').length).toBe(
      types.filter((t) => t === 'CPLAsset').length,
    );
    expect(types.filter((t) => t === 'CPLMaster').length).toBe(types.filter((t) => t === 'CPLAsset').length);
  });

  it('S58: resultsLimit counts records and is capped at 200; the split quirk fills pages exactly', async () => {
    expect((await query(ck, ALL, { resultsLimit: 500 })).json.records).toHaveLength(200);
    expect((await query(ck, ALL, { resultsLimit: 7 })).json.records).toHaveLength(6);
    ck.library.quirks = { ...ck.library.quirks, splitPairs: true };
    const split = await query(ck, ALL, { resultsLimit: 7 });
    ck.library.quirks = { ...ck.library.quirks, splitPairs: false };
    expect(split.json.records).toHaveLength(7);
    expect(split.json.records.filter((r) => r.recordType === 'CPLMaster')).toHaveLength(4);
  });

  it('S59: within a page every CPLMaster precedes every CPLAsset unless the shuffle quirk is on', async () => {
    const types = (await query(ck, ALL, { resultsLimit: 40 })).json.records.map((r) => r.recordType);
    expect(types.lastIndexOf('CPLMaster')).toBeLessThan(types.indexOf('CPLAsset'));
    ck.library.quirks = { ...ck.library.quirks, shuffle: true };
    const shuffled = (await query(ck, ALL, { resultsLimit: 40 })).json.records.map((r) => r.recordType);
    ck.library.quirks = { ...ck.library.quirks, shuffle: false };
    expect(shuffled.lastIndexOf('CPLMaster')).toBeGreaterThan(shuffled.indexOf('CPLAsset'));
  });

  it('S60: startRank counts photos and ASCENDING starts at the newest, DESCENDING at the oldest', async () => {
    const dates = (r: QueryReply) =>
      r.records.filter((x) => x.recordType === 'CPLAsset').map((x) => x.fields!.assetDate!.value as number);
    const ascending = dates(
      (await query(ck, ALL, { filters: [rank(0), direction('ASCENDING')], resultsLimit: 20 })).json,
    );
    expect([...ascending].sort((a, b) => b - a)).toEqual(ascending);
    const next = dates(
      (await query(ck, ALL, { filters: [rank(10), direction('ASCENDING')], resultsLimit: 20 })).json,
    );
    expect(next[0]).toBeLessThanOrEqual(ascending.at(-1)!);
    const descending = dates(
      (await query(ck, ALL, { filters: [direction('DESCENDING'), rank(0)], resultsLimit: 20 })).json,
    );
    expect([...descending].sort((a, b) => a - b)).toEqual(descending);
  });

  it('S61: a continuationMarker is present iff more follows and takes precedence over startRank', async () => {
    const first = await query(ck, ALL, { filters: [rank(0)], resultsLimit: 20 });
    expect(first.json.continuationMarker).toBeDefined();
    const viaMarker = await query(ck, ALL, {
      filters: [rank(50)],
      resultsLimit: 20,
      continuationMarker: first.json.continuationMarker,
    });
    const viaRank = await query(ck, ALL, { filters: [rank(10)], resultsLimit: 20 });
    expect(viaMarker.json.records.map((r) => r.recordName)).toEqual(
      viaRank.json.records.map((r) => r.recordName),
    );
    const total = await count(ck, 'CPLAssetByAssetDateWithoutHiddenOrDeleted');
    const last = await query(ck, ALL, { filters: [rank(total - 3)], resultsLimit: 20 });
    expect(last.json.continuationMarker).toBeUndefined();
  });

  it('S62: an empty result is records [] plus the token, without a marker', async () => {
    const { json } = await query(ck, ALL, { filters: [rank(100_000)] });
    expect(Object.keys(json).sort()).toEqual(['records', 'syncToken']);
    expect(json.records).toEqual([]);
  });

  it('S63: the empty-page quirk answers one rank in the middle of the range with no records', async () => {
    ck.library.quirks = { ...ck.library.quirks, emptyPageAtRank: 20 };
    const empty = await query(ck, ALL, { filters: [rank(20)], resultsLimit: 20 });
    const after = await query(ck, ALL, { filters: [rank(30)], resultsLimit: 20 });
    ck.library.quirks = { ...ck.library.quirks, emptyPageAtRank: null };
    expect(empty.json.records).toEqual([]);
    expect(after.json.records.length).toBeGreaterThan(0);
  });

  it('S64: querying a plain record type is BAD_REQUEST "Type is not marked indexable"', async () => {
    const { status, json } = await ck.call<{ serverErrorCode: string; reason: string }>('records/query', {
      query: { recordType: 'CPLMaster' },
      zoneID: { zoneName: 'PrimarySync' },
    });
    expect(status).toBe(400);
    expect(json).toMatchObject({
      serverErrorCode: 'BAD_REQUEST',
      reason: 'Type is not marked indexable: CPLMaster',
    });
  });

  it('S65: the Shared Library serves all photos, counts, tokens and Favorites; user albums come back empty', async () => {
    const zoneName = ck.family.sharedZoneName;
    const all = await query(ck, ALL, { zoneName, resultsLimit: 200 });
    const assets = all.json.records.filter((r) => r.recordType === 'CPLAsset');
    expect(assets.length).toBeGreaterThan(0);
    expect(await count(ck, 'CPLAssetByAssetDateWithoutHiddenOrDeleted', zoneName)).toBe(assets.length);
    expect(all.json.syncToken).toMatch(/^AQAAAAAA/);
    const fav = await query(ck, 'CPLAssetAndMasterInSmartAlbumByAssetDate', {
      zoneName,
      filters: [eq('smartAlbum', 'FAVORITE')],
    });
    expect(fav.status).toBe(200);
    expect((await query(ck, 'CPLAlbumByPositionLive', { zoneName })).json.records).toEqual([]);
  });

  it('S66: the inline-error quirk replaces named records by {recordName, serverErrorCode, reason}', async () => {
    const page = await query(ck, ALL, { resultsLimit: 10 });
    const victim = page.json.records[0]!.recordName;
    ck.library.quirks = { ...ck.library.quirks, inlineErrors: [victim] };
    const again = await query(ck, ALL, { resultsLimit: 10 });
    ck.library.quirks = { ...ck.library.quirks, inlineErrors: [] };
    const item = again.json.records.find((r) => r.recordName === victim)!;
    expect(Object.keys(item).sort()).toEqual(['reason', 'recordName', 'serverErrorCode']);
  });

  it('S67: HyperionIndexCountLookup counts photos via the batch endpoint and via records/query', async () => {
    const viaBatch = await count(ck, 'CPLAssetByAssetDateWithoutHiddenOrDeleted');
    const { json } = await query(ck, 'HyperionIndexCountLookup', {
      filters: [
        {
          fieldName: 'indexCountID',
          comparator: 'IN',
          fieldValue: { type: 'STRING_LIST', value: ['CPLAssetByAssetDateWithoutHiddenOrDeleted'] },
        },
      ],
    });
    expect(json.records[0]).toMatchObject({
      recordType: 'IndexCountResult',
      fields: { itemCount: { value: viaBatch, type: 'INT64' } },
    });
    let enumerated = 0;
    for (let r = 0; ; r += 100) {
      const page = await query(ck, ALL, { filters: [rank(r)], resultsLimit: 200 });
      const n = page.json.records.filter((x) => x.recordType === 'CPLAsset').length;
      enumerated += n;
      if (n === 0) break;
    }
    expect(viaBatch).toBe(enumerated);
  });

  it('S68: every count index name of the spec answers', async () => {
    const albums = await query(ck, 'CPLAlbumByPositionLive');
    const album = albums.json.records.find((r) => r.fields?.albumType?.value === 0)!;
    const names = [
      'CPLAssetByAssetDateWithoutHiddenOrDeleted',
      'CPLAssetByAddedDate',
      'CPLAssetDeletedByExpungedDate',
      'CPLAssetHiddenByAssetDate',
      'CPLAssetInSmartAlbumByAssetDate:Favorite',
      'CPLAssetInSmartAlbumByAssetDate:Video',
      'CPLAssetBurstStackAssetByAssetDate',
      `CPLContainerRelationNotDeletedByAssetDate:${album.recordName}`,
    ];
    for (const name of names) expect(await count(ck, name)).toBeGreaterThan(0);
  });

  it('S69: the count-drift quirk shifts itemCount by the configured delta', async () => {
    const exact = await count(ck, 'CPLAssetByAssetDateWithoutHiddenOrDeleted');
    ck.library.quirks = { ...ck.library.quirks, countDrift: 3 };
    const drifted = await count(ck, 'CPLAssetByAssetDateWithoutHiddenOrDeleted');
    ck.library.quirks = { ...ck.library.quirks, countDrift: 0 };
    expect(drifted).toBe(exact + 3);
  });

  it('S53: records/query on an unknown zone is a top-level 404 ZONE_NOT_FOUND', async () => {
    const { status, json } = await query(ck, ALL, { zoneName: 'SharedSync' });
    expect(status).toBe(404);
    expect(json).toMatchObject({ serverErrorCode: 'ZONE_NOT_FOUND' });
  });
});
