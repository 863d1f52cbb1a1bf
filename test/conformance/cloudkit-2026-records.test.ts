/**
 * The 2026 record findings (S142-S143 in docs/protocol/simulator-contract.md#zones-records-downloads-2026): boolean-like fields encoded as INT64 0/1 or JSON
 * booleans per record type and time window, and `records/lookup` names that cannot be returned
 * appearing inside `records` as error entries.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';
import type { GroundTruthAsset } from '#simulator/src/library/index.ts';
import { DEFAULT_QUIRKS } from '#simulator/src/library/quirks.ts';

type Field = { value?: unknown; type?: string };
type CkRecord = { recordName: string; recordType?: string; fields?: Record<string, Field> } & Record<
  string,
  unknown
>;

describe('records of the 2026 findings (S142-S143)', () => {
  let ck: InProcessCloudKit;
  let truth: GroundTruthAsset[];

  beforeAll(async () => {
    ck = await openInProcessCloudKit({ seed: 142, assets: 60 });
    truth = [...(await ck.library.groundTruth({ sha256: false })).assets];
  });

  afterEach(() => {
    ck.library.quirks = { ...DEFAULT_QUIRKS };
  });

  const lookup = async (names: string[]) => {
    const reply = await ck.call<{ records: CkRecord[] }>('records/lookup', {
      records: names.map((recordName) => ({ recordName })),
      zoneID: { zoneName: 'PrimarySync' },
    });
    expect(reply.status).toBe(200);
    return reply.json.records;
  };

  const primary = (test: (a: GroundTruthAsset) => boolean) =>
    truth.find((a) => a.zone === 'PrimarySync' && a.zoneOwner === 'owner' && test(a)) as GroundTruthAsset;

  it('S142: a CPLAlbum isDeleted flips between INT64 1 and true for the same account', async () => {
    const album = ck.library.core.state.albums.find((a) => !a.deleted && a.name !== undefined);
    expect(album).toBeDefined();
    await ck.library.mutate({ op: 'delete-album', album: album!.recordName });
    const [asInt] = await lookup([album!.recordName]);
    expect(asInt?.fields?.isDeleted).toEqual({ value: 1, type: 'INT64' });
    ck.library.quirks.booleanEncoding = [{ recordType: 'CPLAlbum', encoding: 'boolean' }];
    const [asBool] = await lookup([album!.recordName]);
    expect(asBool?.fields?.isDeleted).toEqual({ value: true });
  });

  it('S142: the encoding is per record type: CPLAsset flags as true/false while CPLMaster keeps 0/1', async () => {
    const favorite = primary((a) => !a.isDeleted && !a.isHidden && !a.isFavorite);
    await ck.library.mutate({ op: 'favorite', assetRecordName: favorite.assetRecordName });
    await ck.library.mutate({ op: 'trash', assetRecordName: favorite.assetRecordName });
    ck.library.quirks.booleanEncoding = [{ recordType: 'CPLAsset', encoding: 'boolean' }];
    const [master, asset] = await lookup([favorite.masterRecordName, favorite.assetRecordName]);
    expect(asset?.fields?.isFavorite).toEqual({ value: true });
    expect(asset?.fields?.isHidden).toEqual({ value: false });
    expect(asset?.fields?.isDeleted).toEqual({ value: true });
    expect(asset?.fields?.isExpunged).toEqual({ value: false });
    expect(master?.fields?.isDeleted).toEqual({ value: 1, type: 'INT64' });
  });

  it('S142: a rule holds only in its time window on the simulated clock', async () => {
    const plain = primary((a) => !a.isDeleted && !a.isHidden);
    const now = ck.clock.now();
    ck.library.quirks.booleanEncoding = [
      { recordType: 'CPLAsset', encoding: 'boolean', from: now + 3_600_000, until: now + 7_200_000 },
    ];
    expect((await lookup([plain.assetRecordName]))[0]?.fields?.isHidden).toEqual({ value: 0, type: 'INT64' });
    ck.clock.advance(3_600_000);
    expect((await lookup([plain.assetRecordName]))[0]?.fields?.isHidden).toEqual({ value: false });
    ck.clock.advance(3_600_000);
    expect((await lookup([plain.assetRecordName]))[0]?.fields?.isHidden).toEqual({ value: 0, type: 'INT64' });
  });

  it('S142: the switch reaches query pages and change feeds too', async () => {
    ck.library.quirks.booleanEncoding = [{ recordType: 'CPLAsset', encoding: 'boolean' }];
    const page = await ck.call<{ zones: { records: CkRecord[] }[] }>('changes/zone', {
      zones: [{ zoneID: { zoneName: 'PrimarySync' }, resultsLimit: 50 }],
    });
    const assets = (page.json.zones[0]?.records ?? []).filter((r) => r.recordType === 'CPLAsset');
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect(typeof asset.fields?.isFavorite?.value).toBe('boolean');
  });

  it('S143: a lookup name that cannot be returned is an error entry inside records, in request order, without fields', async () => {
    const [a, b] = truth.filter((x) => x.zone === 'PrimarySync' && x.zoneOwner === 'owner' && !x.isDeleted);
    ck.library.quirks.lookupErrors = [b!.masterRecordName];
    const records = await lookup([
      a!.masterRecordName,
      b!.masterRecordName,
      'NoSuchRecord',
      a!.assetRecordName,
    ]);
    expect(records.map((r) => r.recordName)).toEqual([
      a!.masterRecordName,
      b!.masterRecordName,
      'NoSuchRecord',
      a!.assetRecordName,
    ]);
    for (const failed of [records[1], records[2]]) {
      expect(failed).toEqual({
        recordName: failed?.recordName,
        serverErrorCode: 'NOT_FOUND',
        reason: expect.any(String),
      });
      expect(failed).not.toHaveProperty('fields');
    }
    expect(records[0]?.recordType).toBe('CPLMaster');
    expect(records[3]?.recordType).toBe('CPLAsset');
  });

  it('S143: a record that lookup cannot return is still served by queries and change feeds', async () => {
    // The last such photo: earlier tests trash the first ones.
    const photo = truth
      .filter((x) => x.zone === 'PrimarySync' && x.zoneOwner === 'owner' && !x.isDeleted && !x.isHidden)
      .at(-1) as GroundTruthAsset;
    ck.library.quirks.lookupErrors = [photo.masterRecordName];
    const page = await ck.call<{ records: CkRecord[] }>('records/query', {
      query: { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' },
      zoneID: { zoneName: 'PrimarySync' },
      resultsLimit: 200,
    });
    expect(page.json.records.map((r) => r.recordName)).toContain(photo.masterRecordName);
    const fed: string[] = [];
    let syncToken: string | undefined;
    for (let more = true; more; ) {
      const feed = await ck.call<{
        zones: { records: CkRecord[]; syncToken: string; moreComing: boolean }[];
      }>('changes/zone', {
        zones: [
          { zoneID: { zoneName: 'PrimarySync' }, resultsLimit: 200, ...(syncToken ? { syncToken } : {}) },
        ],
      });
      const zone = feed.json.zones[0]!;
      fed.push(...zone.records.map((r) => r.recordName));
      syncToken = zone.syncToken;
      more = zone.moreComing;
    }
    expect(fed).toContain(photo.masterRecordName);
  });
});
