import { beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';
import type { GroundTruthAsset } from '#simulator/src/library/index.ts';

type Field = { value?: unknown; type?: string };
type CkRecord = {
  recordName: string;
  recordType: string | null;
  deleted: boolean;
  fields?: Record<string, Field>;
};
type Who = { database: 'private' | 'shared'; who: 'owner' | 'member' };

const OWNER_PRIVATE: Who = { database: 'private', who: 'owner' };
const MEMBER_PRIVATE: Who = { database: 'private', who: 'member' };
const MEMBER_SHARED: Who = { database: 'shared', who: 'member' };

describe('Shared Library (S102-S107)', () => {
  let ck: InProcessCloudKit;
  let shared: string;

  async function token(zoneName: string, as: Who): Promise<string> {
    const { json } = await ck.call<{ zones: { zoneID: { zoneName: string }; syncToken: string }[] }>(
      'changes/database',
      {},
      as,
    );
    return json.zones.find((z) => z.zoneID.zoneName === zoneName)!.syncToken;
  }

  async function delta(zoneName: string, from: string, as: Who): Promise<CkRecord[]> {
    const out: CkRecord[] = [];
    let syncToken = from;
    for (;;) {
      const { json } = await ck.call<{
        zones: { syncToken: string; moreComing: boolean; records: CkRecord[] }[];
      }>('changes/zone', { zones: [{ zoneID: { zoneName }, syncToken }] }, as);
      out.push(...json.zones[0]!.records);
      syncToken = json.zones[0]!.syncToken;
      if (!json.zones[0]!.moreComing) return out;
    }
  }

  const typesOf = (records: CkRecord[]) => records.map((r) => r.recordType ?? 'tombstone').sort();
  const tokens = async () => ({
    ownerPrimary: await token('PrimarySync', OWNER_PRIVATE),
    ownerShared: await token(shared, OWNER_PRIVATE),
    memberPrimary: await token('PrimarySync', MEMBER_PRIVATE),
  });

  async function truth(): Promise<GroundTruthAsset[]> {
    return [...(await ck.library.groundTruth({ sha256: false })).assets];
  }

  beforeAll(async () => {
    ck = await openInProcessCloudKit({ seed: 4, assets: 60 });
    shared = ck.family.sharedZoneName;
  });

  it('S102: owner and participant share one SharedSync zone, in private for the owner and shared for the member', async () => {
    const owner = await ck.call<{ records: CkRecord[] }>('records/query', {
      query: { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' },
      zoneID: { zoneName: shared },
    });
    const member = await ck.call<{ records: CkRecord[] }>(
      'records/query',
      {
        query: { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' },
        zoneID: { zoneName: shared },
      },
      MEMBER_SHARED,
    );
    expect(owner.json.records.length).toBeGreaterThan(0);
    expect(member.json.records.map((r) => r.recordName)).toEqual(owner.json.records.map((r) => r.recordName));
  });

  it('S103: shared masters and assets carry contributors (REFERENCE_LIST, action NONE) and live assets trashReason 0', async () => {
    const { json } = await ck.call<{ records: CkRecord[] }>('records/query', {
      query: { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' },
      zoneID: { zoneName: shared },
    });
    const contributors = new Set<string>();
    for (const r of json.records) {
      const field = r.fields!.contributors!;
      expect(field.type).toBe('REFERENCE_LIST');
      const refs = field.value as { recordName: string; action: string }[];
      expect(refs[0]!.action).toBe('NONE');
      contributors.add(refs[0]!.recordName);
      if (r.recordType === 'CPLAsset') expect(r.fields!.trashReason).toEqual({ value: 0, type: 'INT64' });
    }
    expect(contributors).toEqual(new Set([ck.family.owner.userRecordName, ck.family.member.userRecordName]));
  });

  it('S104: moving your own photo into the Shared Library updates PrimarySync and creates records with the same master name', async () => {
    const mine = (await truth()).find(
      (a) =>
        a.zone === 'PrimarySync' &&
        a.zoneOwner === 'owner' &&
        !a.isDeleted &&
        a.kind === 'heic' &&
        !a.adjustmentType,
    )!;
    const before = await tokens();
    const result = await ck.library.mutate({ op: 'share', assetRecordName: mine.assetRecordName });
    const primary = await delta('PrimarySync', before.ownerPrimary, OWNER_PRIVATE);
    expect(typesOf(primary)).toEqual(['CPLAsset', 'CPLMaster']);
    const sharedDelta = await delta(shared, before.ownerShared, OWNER_PRIVATE);
    expect(typesOf(sharedDelta)).toEqual([
      'CPLAsset',
      'CPLLibraryInfo',
      'CPLMaster',
      'CPLSharedLibraryQuota',
    ]);
    expect(sharedDelta.find((r) => r.recordType === 'CPLMaster')!.recordName).toBe(mine.masterRecordName);
    expect(result.assets[0]!.zone).toBe(shared);
  });

  it('S105: move-to-personal marks the shared asset deleted with deletedBy and trashReason 0 and creates records in the mover’s PrimarySync', async () => {
    const theirs = (await truth()).find(
      (a) => a.zone === shared && !a.isDeleted && a.contributors?.[0] === ck.family.member.userRecordName,
    )!;
    const before = await tokens();
    await ck.library.mutate({
      op: 'move-to-personal',
      assetRecordName: theirs.assetRecordName,
      by: 'member',
    });
    const sharedDelta = await delta(shared, before.ownerShared, OWNER_PRIVATE);
    const asset = sharedDelta.find((r) => r.recordName === theirs.assetRecordName)!;
    expect(asset.fields).toMatchObject({
      isDeleted: { value: 1 },
      trashReason: { value: 0 },
      isExpunged: { value: 1 },
    });
    expect((asset.fields!.deletedBy!.value as { recordName: string }).recordName).toBe(
      ck.family.member.userRecordName,
    );
    const memberPrimary = await delta('PrimarySync', before.memberPrimary, MEMBER_PRIVATE);
    expect(typesOf(memberPrimary)).toEqual(['CPLAsset', 'CPLLibraryInfo', 'CPLMaster']);
    expect(memberPrimary.find((r) => r.recordType === 'CPLMaster')!.recordName).toBe(theirs.masterRecordName);
    expect(await delta('PrimarySync', before.ownerPrimary, OWNER_PRIVATE)).toEqual([]);
  });

  it('S105: deleting from the Shared Library sets trashReason 1 and touches no PrimarySync', async () => {
    const item = (await truth()).find((a) => a.zone === shared && !a.isDeleted)!;
    const before = await tokens();
    await ck.library.mutate({ op: 'shared-delete', assetRecordName: item.assetRecordName, by: 'owner' });
    const sharedDelta = await delta(shared, before.ownerShared, OWNER_PRIVATE);
    expect(sharedDelta.find((r) => r.recordName === item.assetRecordName)!.fields).toMatchObject({
      isDeleted: { value: 1 },
      trashReason: { value: 1 },
    });
    expect(await delta('PrimarySync', before.ownerPrimary, OWNER_PRIVATE)).toEqual([]);
    expect(await delta('PrimarySync', before.memberPrimary, MEMBER_PRIVATE)).toEqual([]);
  });

  it('S106: another member adding a photo produces nothing in the owner’s PrimarySync', async () => {
    const before = await tokens();
    await ck.library.mutate({ op: 'add', kind: 'live', zone: 'shared', contributor: 'member' });
    expect(await delta('PrimarySync', before.ownerPrimary, OWNER_PRIVATE)).toEqual([]);
    expect(await delta('PrimarySync', before.memberPrimary, MEMBER_PRIVATE)).toEqual([]);
    const sharedDelta = await delta(shared, before.ownerShared, OWNER_PRIVATE);
    expect(typesOf(sharedDelta)).toEqual([
      'CPLAsset',
      'CPLLibraryInfo',
      'CPLMaster',
      'CPLSharedLibraryQuota',
    ]);
  });

  it('S107: Shared Library changes emit CPLSharedLibraryQuota and CPLLibraryInfo records', async () => {
    const before = await tokens();
    await ck.library.mutate({ op: 'add', kind: 'photo', zone: 'shared', contributor: 'owner' });
    const sharedDelta = await delta(shared, before.ownerShared, OWNER_PRIVATE);
    const quota = sharedDelta.find((r) => r.recordType === 'CPLSharedLibraryQuota')!;
    expect(quota.recordName).toBe(`SharedLibraryQuota-${ck.family.owner.userRecordName}`);
    expect(quota.fields!.contributedQuotaInSharedLibrary!.type).toBe('INT64');
    expect(sharedDelta.some((r) => r.recordType === 'CPLLibraryInfo')).toBe(true);
    expect(typesOf(await delta('PrimarySync', before.ownerPrimary, OWNER_PRIVATE))).toEqual([
      'CPLAsset',
      'CPLLibraryInfo',
      'CPLMaster',
    ]);
  });
});
