/**
 * New-generation Shared Albums (SA-28..SA-31 in docs/protocol/shared-albums.md#new-generation):
 * `SharedCollection-<UUID>` zones created through the control model, listed for their owner in the
 * private database and for participants in the shared one, read through `changes/zone`, reported by
 * `changes/database` only when they changed, and gone (as `deleted: true`) when deleted or left.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';

interface ZoneEntry {
  readonly zoneID: { readonly zoneName: string; readonly ownerRecordName: string };
  readonly syncToken?: string;
  readonly deleted?: boolean;
}
interface CkRecord {
  readonly recordName: string;
  readonly recordType: string;
  readonly fields: Record<string, { value: unknown }>;
  readonly created?: { userRecordName: string };
  readonly participants?: unknown[];
}
interface ZonePage {
  readonly syncToken: string;
  readonly moreComing: boolean;
  readonly records: CkRecord[];
  readonly serverErrorCode?: string;
}

const COLLECTION = /^SharedCollection-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

describe('new-generation Shared Album zones (SA-28..SA-31)', () => {
  let ck: InProcessCloudKit;

  beforeEach(async () => {
    ck = await openInProcessCloudKit({ seed: 1528, assets: 10 });
  });

  const mutate = (op: Record<string, unknown>) => ck.library.collections.mutate(op);
  const dbChanges = async (
    body: unknown,
    options: { database?: 'private' | 'shared'; who?: 'owner' | 'member' } = {},
  ) => (await ck.call<{ syncToken: string; zones: ZoneEntry[] }>('changes/database', body, options)).json;
  const zoneChanges = async (
    zoneID: unknown,
    syncToken: string | undefined,
    options: { database?: 'private' | 'shared'; who?: 'owner' | 'member' } = {},
  ) => {
    const reply = await ck.call<{ zones: ZonePage[] }>(
      'changes/zone',
      { zones: [{ zoneID, ...(syncToken === undefined ? {} : { syncToken }) }] },
      options,
    );
    expect(reply.status).toBe(200);
    return reply.json.zones[0]!;
  };

  it('SA-28: no album zone exists until one is created; then the owner sees it in private, a participant in shared', async () => {
    const before = (await dbChanges({})).zones.map((z) => z.zoneID.zoneName);
    expect(before.some((n) => n.startsWith('SharedCollection-'))).toBe(false);
    const { zoneName } = mutate({ op: 'createAlbum', title: 'Beach 2026', items: 2 }) as { zoneName: string };
    expect(zoneName).toMatch(COLLECTION);
    const owned = (await ck.call<{ zones: ZoneEntry[] }>('zones/list', {})).json.zones;
    expect(owned.find((z) => z.zoneID.zoneName === zoneName)?.zoneID.ownerRecordName).toBe(
      ck.family.owner.userRecordName,
    );
    const joined = (await dbChanges({}, { database: 'shared', who: 'member' })).zones;
    expect(joined.find((z) => z.zoneID.zoneName === zoneName)?.zoneID.ownerRecordName).toBe(
      ck.family.owner.userRecordName,
    );
    // Not in the owner's shared database nor the member's private one.
    expect(
      (await dbChanges({}, { database: 'shared' })).zones.some((z) => z.zoneID.zoneName === zoneName),
    ).toBe(false);
    expect((await dbChanges({}, { who: 'member' })).zones.some((z) => z.zoneID.zoneName === zoneName)).toBe(
      false,
    );
  });

  it('SA-30/31: changes/zone serves the share record, then master/asset pairs; the contributor is the creator', async () => {
    const { zoneName } = mutate({ op: 'createAlbum', title: 'Kids', items: 2 }) as { zoneName: string };
    mutate({ op: 'addItems', zoneName, count: 1, contributor: 'member' });
    const page = await zoneChanges({ zoneName }, undefined);
    const types = page.records.map((r) => r.recordType);
    expect(types).toEqual([
      'cloudkit.share',
      'CPLMaster',
      'CPLAsset',
      'CPLMaster',
      'CPLAsset',
      'CPLMaster',
      'CPLAsset',
    ]);
    const share = page.records[0]!;
    expect(share.recordName).toBe('cloudkit.zoneshare');
    expect(share.fields['cloudkit.title']?.value).toBe('Kids');
    expect(share.fields['cloudkit.type']?.value).toBe('photos_sharedcollections');
    expect(share.participants).toHaveLength(2);
    const last = page.records.at(-1)!;
    expect(last.created?.userRecordName).toBe(ck.family.member.userRecordName);
    expect(page.moreComing).toBe(false);
    // Caught up: the same token again serves nothing and stays byte-identical.
    const again = await zoneChanges({ zoneName }, page.syncToken);
    expect(again.records).toEqual([]);
    expect(again.syncToken).toBe(page.syncToken);
    // records/lookup of the share record (SA-30).
    const lookup = await ck.call<{ records: CkRecord[] }>('records/lookup', {
      zoneID: { zoneName },
      records: [{ recordName: 'cloudkit.zoneshare' }],
    });
    expect(lookup.json.records[0]?.recordType).toBe('cloudkit.share');
  });

  it('SA-31: a removed item comes back as its CPLAsset with isDeleted = 1; an index query fails as Apple does', async () => {
    const { zoneName, items } = mutate({ op: 'createAlbum', title: 'Trip', items: 2 }) as {
      zoneName: string;
      items: string[];
    };
    const first = await zoneChanges({ zoneName }, undefined);
    mutate({ op: 'removeItem', zoneName, assetName: items[0] });
    const delta = await zoneChanges({ zoneName }, first.syncToken);
    expect(delta.records.map((r) => [r.recordName, r.recordType, r.fields.isDeleted?.value])).toEqual([
      [items[0], 'CPLAsset', 1],
    ]);
    const query = await ck.call<{ serverErrorCode: string; reason: string }>('records/query', {
      zoneID: { zoneName },
      query: { recordType: 'CPLAlbumByPositionLive' },
    });
    expect(query.status).toBe(400);
    expect(query.json.reason).toBe('Index has invalid data');
  });

  it('SA-28: changes/database reports an album zone only when it changed, and a deleted or left one as deleted', async () => {
    const { zoneName } = mutate({ op: 'createAlbum', title: 'A', items: 1 }) as { zoneName: string };
    const other = (mutate({ op: 'createAlbum', title: 'B', items: 1 }) as { zoneName: string }).zoneName;
    const start = await dbChanges({});
    const idle = await dbChanges({ syncToken: start.syncToken });
    expect(idle.zones).toEqual([]);
    mutate({ op: 'addItems', zoneName });
    const changed = await dbChanges({ syncToken: idle.syncToken });
    expect(changed.zones.map((z) => z.zoneID.zoneName)).toEqual([zoneName]);
    const memberStart = await dbChanges({}, { database: 'shared', who: 'member' });
    mutate({ op: 'leave', zoneName, who: 'member' });
    mutate({ op: 'deleteAlbum', zoneName: other });
    const memberAfter = await dbChanges(
      { syncToken: memberStart.syncToken },
      { database: 'shared', who: 'member' },
    );
    expect(memberAfter.zones.map((z) => [z.zoneID.zoneName, z.deleted])).toEqual(
      expect.arrayContaining([
        [zoneName, true],
        [other, true],
      ]),
    );
    const ownerAfter = await dbChanges({ syncToken: changed.syncToken });
    // The owner sees the left album change (its share record lost a participant) and the deleted one go.
    expect(ownerAfter.zones.map((z) => [z.zoneID.zoneName, z.deleted ?? false])).toEqual([
      [zoneName, false],
      [other, true],
    ]);
    // The left zone is no longer readable by the member.
    const gone = await zoneChanges({ zoneName }, undefined, { database: 'shared', who: 'member' });
    expect(gone.serverErrorCode).toBe('ZONE_NOT_FOUND');
  });

  it('SA-31: a comment is a CPLTextComment record naming its item, served after it', async () => {
    const { zoneName, items } = mutate({ op: 'createAlbum', title: 'C', items: 1 }) as {
      zoneName: string;
      items: string[];
    };
    const first = await zoneChanges({ zoneName }, undefined);
    mutate({ op: 'comment', zoneName, assetName: items[0], who: 'member', text: 'Hi' });
    const delta = await zoneChanges({ zoneName }, first.syncToken);
    expect(delta.records).toHaveLength(1);
    const comment = delta.records[0]!;
    expect(comment.recordType).toBe('CPLTextComment');
    expect(comment.fields.commentText?.value).toBe('Hi');
    expect(comment.fields.associatedAssetRef?.value).toMatchObject({ recordName: items[0] });
    expect(comment.created?.userRecordName).toBe(ck.family.member.userRecordName);
  });

  it('control API: ground truth lists live items with their contributor; bad mutations are refused', () => {
    const { zoneName } = mutate({ op: 'createAlbum', title: 'G', items: 1 }) as { zoneName: string };
    mutate({ op: 'addItems', zoneName, contributor: 'member' });
    const truth = ck.library.collections.groundTruth() as {
      albums: { zoneName: string; items: { contributor: { who: string } }[] }[];
    };
    const album = truth.albums.find((a) => a.zoneName === zoneName)!;
    expect(album.items.map((i) => i.contributor.who)).toEqual(['owner', 'member']);
    expect(() => mutate({ op: 'leave', zoneName, who: 'owner' })).toThrow(/owner cannot leave/);
    expect(() => mutate({ op: 'removeItem', zoneName, assetName: 'nope' })).toThrow(/no item/);
  });
});
