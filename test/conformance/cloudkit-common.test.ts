import { beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';

type CkRecord = Record<string, unknown> & { fields?: Record<string, { value?: unknown; type?: string }> };

const ALL = 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted';
const queryBody = (extra: Record<string, unknown> = {}) => ({
  query: { recordType: ALL },
  resultsLimit: 4,
  zoneID: { zoneName: 'PrimarySync' },
  ...extra,
});

describe('CloudKit common behaviour and zones (S41-S54)', () => {
  let ck: InProcessCloudKit;

  beforeAll(async () => {
    ck = await openInProcessCloudKit({ seed: 21, assets: 40 });
  });

  it('S41: other containers and environments are rejected with 400', async () => {
    const container = await ck.call(
      'zones/list',
      {},
      { path: '/database/1/com.apple.cloudDocs/production/private/zones/list' },
    );
    const environment = await ck.call(
      'zones/list',
      {},
      { path: '/database/1/com.apple.photos.cloud/development/private/zones/list' },
    );
    expect(container.status).toBe(400);
    expect(environment.status).toBe(400);
    expect((await ck.call('zones/list', {})).status).toBe(200);
  });

  it('S45: any combination of the usual query parameters is accepted, booleans in any case', async () => {
    for (const query of [
      '',
      'remapEnums=True&getCurrentSyncToken=True',
      'clientBuildNumber=2522Project44&clientMasteringNumber=2522B2&clientId=X&dsid=1&remapEnums=true&getCurrentSyncToken=TRUE',
    ]) {
      const reply = await ck.call<{ records: unknown[] }>('records/query', queryBody(), { query });
      expect(reply.status).toBe(200);
      expect(reply.json.records).toHaveLength(4);
    }
  });

  it('S46: records/query, lookup and batch carry syncToken only with getCurrentSyncToken=true', async () => {
    const without = await ck.call<Record<string, unknown>>('records/query', queryBody(), {
      query: 'remapEnums=True',
    });
    const withIt = await ck.call<Record<string, unknown>>('records/query', queryBody(), {
      query: 'getCurrentSyncToken=True',
    });
    expect(without.json.syncToken).toBeUndefined();
    expect(withIt.json.syncToken).toMatch(/^AQAAAAAA[A-Za-z0-9+/]{36}$/);
    const lookup = await ck.call<Record<string, unknown>>(
      'records/lookup',
      { records: [{ recordName: 'x' }], zoneID: { zoneName: 'PrimarySync' } },
      { query: '' },
    );
    expect(lookup.json.syncToken).toBeUndefined();
    const zones = await ck.call<Record<string, unknown>>('zones/list', {}, { query: '' });
    expect(zones.json.syncToken).toBeDefined();
  });

  it('S48: records come in the docs/protocol/cloudkit.md#record-envelope envelope with typed field wrappers', async () => {
    const { json } = await ck.call<{ records: CkRecord[] }>('records/query', queryBody());
    for (const record of json.records) {
      expect(Object.keys(record).sort()).toEqual(
        [
          'created',
          'deleted',
          'fields',
          'modified',
          'pluginFields',
          'recordChangeTag',
          'recordName',
          'recordType',
          'zoneID',
        ]
          .concat('expirationTime' in record ? ['expirationTime'] : [])
          .sort(),
      );
      expect(record.pluginFields).toEqual({});
      expect(record.deleted).toBe(false);
      expect(record.zoneID).toMatchObject({ zoneName: 'PrimarySync', zoneType: 'REGULAR_CUSTOM_ZONE' });
      expect(Object.keys(record.created as object).sort()).toEqual([
        'deviceID',
        'timestamp',
        'userRecordName',
      ]);
      for (const field of Object.values(record.fields ?? {})) expect(typeof field.type).toBe('string');
    }
  });

  it('S49: desiredKeys limits fields to the listed names (unknown ones ignored); absent means all', async () => {
    const limited = await ck.call<{ records: CkRecord[] }>(
      'records/query',
      queryBody({ desiredKeys: ['itemType', 'isFavorite', 'noSuchKey'] }),
    );
    for (const r of limited.json.records) {
      expect(Object.keys(r.fields ?? {})).toEqual([r.recordType === 'CPLMaster' ? 'itemType' : 'isFavorite']);
    }
    const full = await ck.call<{ records: CkRecord[] }>('records/query', queryBody());
    const master = full.json.records.find((r) => r.recordType === 'CPLMaster')!;
    expect(Object.keys(master.fields ?? {}).length).toBeGreaterThan(10);
  });

  it('S51: the owner sees PrimarySync and SharedSync-<UUID> in private and nothing in shared', async () => {
    const priv = await ck.call<{
      zones: { zoneID: Record<string, string>; syncToken: string; deleted: boolean }[];
    }>('zones/list', {}, { query: '' });
    expect(priv.json.zones.map((z) => z.zoneID.zoneName)).toEqual(['PrimarySync', ck.family.sharedZoneName]);
    expect(ck.family.sharedZoneName).toMatch(
      /^SharedSync-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/,
    );
    for (const zone of priv.json.zones) {
      expect(zone.zoneID).toMatchObject({
        ownerRecordName: ck.family.owner.userRecordName,
        zoneType: 'REGULAR_CUSTOM_ZONE',
      });
      expect(zone.deleted).toBe(false);
      expect(zone.syncToken).toMatch(/^AQAAAAAA/);
    }
    const shared = await ck.call<{ zones: unknown[] }>('zones/list', {}, { database: 'shared', query: '' });
    expect(shared.json.zones).toEqual([]);
  });

  it('S51: a participant sees only PrimarySync in private and the Shared Library in shared', async () => {
    const priv = await ck.call<{ zones: { zoneID: Record<string, string> }[] }>(
      'zones/list',
      {},
      { who: 'member' },
    );
    expect(priv.json.zones.map((z) => z.zoneID.zoneName)).toEqual(['PrimarySync']);
    expect(priv.json.zones[0]!.zoneID.ownerRecordName).toBe(ck.family.member.userRecordName);
    const shared = await ck.call<{ zones: { zoneID: Record<string, string> }[] }>(
      'zones/list',
      {},
      { who: 'member', database: 'shared' },
    );
    expect(shared.json.zones.map((z) => z.zoneID)).toEqual([
      {
        zoneName: ck.family.sharedZoneName,
        ownerRecordName: ck.family.owner.userRecordName,
        zoneType: 'REGULAR_CUSTOM_ZONE',
      },
    ]);
  });

  it('S53: a zone that does not exist in that database is ZONE_NOT_FOUND', async () => {
    const shared = await ck.call<Record<string, unknown>>(
      'records/query',
      queryBody({ zoneID: { zoneName: ck.family.sharedZoneName } }),
      { database: 'shared' },
    );
    expect(shared.status).toBe(404);
    expect(shared.json.serverErrorCode).toBe('ZONE_NOT_FOUND');
  });

  it('S54: own zones accept a zoneID with only zoneName, with _defaultOwner, or with the real owner', async () => {
    for (const zoneID of [
      { zoneName: 'PrimarySync' },
      { zoneName: 'PrimarySync', ownerRecordName: '_defaultOwner' },
      { zoneName: 'PrimarySync', ownerRecordName: ck.family.owner.userRecordName },
    ]) {
      expect((await ck.call('records/query', queryBody({ zoneID }))).status).toBe(200);
    }
    const wrong = await ck.call(
      'records/query',
      queryBody({ zoneID: { zoneName: 'PrimarySync', ownerRecordName: '_someoneElse' } }),
    );
    expect(wrong.status).toBe(404);
  });
});
