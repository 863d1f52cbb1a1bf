/**
 * The 2026 zone findings (S139-S141 in docs/protocol/simulator-contract.md#zones-records-downloads-2026): share-link `CMM-*` zones, the shared-collection
 * zone, the migrated primary zone and failed `zones/list` entries, each behind its library quirk.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';
import { DEFAULT_QUIRKS } from '#simulator/src/library/quirks.ts';

interface ZoneEntry {
  readonly zoneID: {
    readonly zoneName: string;
    readonly ownerRecordName: string;
    readonly zoneType?: string;
  };
  readonly syncToken?: string;
  readonly serverErrorCode?: string;
  readonly reason?: string;
}
type Records = { records: Record<string, unknown>[] };

const CMM = /^CMM-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

describe('zones of the 2026 findings (S139-S141)', () => {
  let ck: InProcessCloudKit;

  beforeAll(async () => {
    ck = await openInProcessCloudKit({ seed: 139, assets: 20 });
  });

  afterEach(() => {
    ck.library.quirks = { ...DEFAULT_QUIRKS };
  });

  const zoneNames = async (
    operation: 'zones/list' | 'changes/database',
    options: { database?: 'private' | 'shared'; who?: 'owner' | 'member' } = {},
    body: unknown = {},
  ) => {
    const reply = await ck.call<{ zones: ZoneEntry[] }>(operation, body, options);
    expect(reply.status).toBe(200);
    return reply.json.zones;
  };

  const query = (zoneID: unknown, recordType: string, options: { database?: 'private' | 'shared' } = {}) =>
    ck.call<Record<string, unknown>>(
      'records/query',
      {
        query: {
          recordType,
          filterBy: [
            { fieldName: 'startRank', comparator: 'EQUALS', fieldValue: { type: 'INT64', value: 0 } },
          ],
        },
        zoneID,
        resultsLimit: 10,
      },
      options,
    );

  it('S139: a CMM zone is listed by zones/list and changes/database of the private database', async () => {
    ck.library.quirks.cmmZones = ['private'];
    const listed = await zoneNames('zones/list');
    const cmm = listed.find((z) => CMM.test(z.zoneID.zoneName));
    expect(cmm?.zoneID).toMatchObject({
      ownerRecordName: ck.family.owner.userRecordName,
      zoneType: 'REGULAR_CUSTOM_ZONE',
    });
    expect(listed.map((z) => z.zoneID.zoneName)).toContain('PrimarySync');
    const all = await zoneNames('changes/database');
    expect(all.some((z) => CMM.test(z.zoneID.zoneName))).toBe(true);
    // Reported as changed even when no photo zone changed.
    const token = (await ck.call<{ syncToken: string }>('changes/database', {})).json.syncToken;
    const again = await zoneNames('changes/database', {}, { syncToken: token });
    expect(again.map((z) => z.zoneID.zoneName).every((n) => CMM.test(n))).toBe(true);
    expect(again).toHaveLength(1);
  });

  it('S139: by a switch a CMM zone of someone else is listed in the shared database', async () => {
    expect(
      (await zoneNames('zones/list', { database: 'shared' })).some((z) => CMM.test(z.zoneID.zoneName)),
    ).toBe(false);
    ck.library.quirks.cmmZones = ['shared'];
    const shared = await zoneNames('zones/list', { database: 'shared' });
    const cmm = shared.find((z) => CMM.test(z.zoneID.zoneName));
    expect(cmm?.zoneID.ownerRecordName).toBe(ck.family.member.userRecordName);
    expect((await zoneNames('zones/list')).some((z) => CMM.test(z.zoneID.zoneName))).toBe(false);
  });

  it('S139: index queries in a CMM zone fail with BAD_REQUEST "Index has invalid data"', async () => {
    ck.library.quirks.cmmZones = ['private', 'shared'];
    for (const database of ['private', 'shared'] as const) {
      const cmm = (await zoneNames('zones/list', { database })).find((z) => CMM.test(z.zoneID.zoneName));
      for (const recordType of [
        'CPLAlbumByPositionLive',
        'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted',
      ]) {
        const reply = await query(cmm?.zoneID, recordType, { database });
        expect(reply.status, `${database} ${recordType}`).toBe(400);
        expect(reply.json).toMatchObject({
          serverErrorCode: 'BAD_REQUEST',
          reason: 'Index has invalid data',
        });
      }
    }
    const batch = await ck.call<{ batch: Record<string, unknown>[] }>('internal/records/query/batch', {
      batch: [
        {
          query: { recordType: 'HyperionIndexCountLookup' },
          zoneWide: true,
          zoneID: (await zoneNames('zones/list')).find((z) => CMM.test(z.zoneID.zoneName))?.zoneID,
        },
      ],
    });
    expect(batch.json.batch[0]).toEqual({ serverErrorCode: 'BAD_REQUEST', reason: 'Index has invalid data' });
  });

  it('S139: CMM zones are absent by default', async () => {
    for (const database of ['private', 'shared'] as const) {
      for (const who of ['owner', 'member'] as const) {
        const zones = await zoneNames('zones/list', { database, who });
        expect(zones.some((z) => z.zoneID.zoneName.startsWith('CMM-'))).toBe(false);
      }
    }
  });

  it('S140: a SharedCollection zone is offered; changes/zone serves its share and comment, index queries fail', async () => {
    ck.library.quirks.sharedCollectionZone = true;
    const zone = (await zoneNames('zones/list')).find((z) =>
      z.zoneID.zoneName.startsWith('SharedCollection-'),
    );
    expect(zone?.zoneID.zoneName).toMatch(/^SharedCollection-[0-9A-F-]{36}$/);
    const changes = await ck.call<{ zones: (Records & { moreComing: boolean })[] }>('changes/zone', {
      zones: [{ zoneID: zone?.zoneID }],
    });
    const records = changes.json.zones[0]?.records ?? [];
    expect(records.map((r) => r.recordType).sort()).toEqual(['CPLTextComment', 'cloudkit.share']);
    const share = records.find((r) => r.recordType === 'cloudkit.share') as {
      fields: Record<string, { value: unknown; type: string }>;
    };
    expect(share.fields['cloudkit.type']).toEqual({ value: 'photos_sharedcollections', type: 'STRING' });
    expect(share.fields['cloudkit.title']?.type).toBe('STRING');
    const reply = await query(zone?.zoneID, 'CPLAssetAndMasterByAssetDate');
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ serverErrorCode: 'BAD_REQUEST', reason: 'Index has invalid data' });
  });

  it('S141: the migrated primary zone is PrimarySync1 and PrimarySync answers ZONE_NOT_FOUND', async () => {
    ck.library.quirks.migratedPrimaryZone = true;
    const names = (await zoneNames('zones/list')).map((z) => z.zoneID.zoneName);
    expect(names).toContain('PrimarySync1');
    expect(names).not.toContain('PrimarySync');
    const old = await query({ zoneName: 'PrimarySync' }, 'CPLAssetAndMasterByAssetDate');
    expect(old.status).toBe(404);
    expect(old.json).toMatchObject({ serverErrorCode: 'ZONE_NOT_FOUND' });
    const renamed = await query({ zoneName: 'PrimarySync1' }, 'CPLAssetAndMasterByAssetDate');
    expect(renamed.status).toBe(200);
    const records = (renamed.json as Records).records;
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => (r.zoneID as { zoneName: string }).zoneName === 'PrimarySync1')).toBe(true);
    // The member's own library is untouched.
    expect((await zoneNames('zones/list', { who: 'member' })).map((z) => z.zoneID.zoneName)).toEqual([
      'PrimarySync',
    ]);
  });

  it('S141: a switch adds a failed zones/list entry that keeps its zoneID', async () => {
    ck.library.quirks.zoneFetchError = true;
    const zones = await zoneNames('zones/list');
    const failed = zones.filter((z) => z.serverErrorCode !== undefined);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ serverErrorCode: expect.any(String), reason: expect.any(String) });
    expect(failed[0]?.zoneID.zoneName).toMatch(/^SharedSync-/);
    expect(zones.filter((z) => z.serverErrorCode === undefined).map((z) => z.zoneID.zoneName)).toContain(
      'PrimarySync',
    );
  });
});
