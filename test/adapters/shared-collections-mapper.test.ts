/**
 * The one seam for new-generation Shared Album records (map-collection-records.ts): a zone's
 * records -> title, owner, live items with contributor; removed items, deleted records and
 * unreadable items handled as docs/protocol/shared-albums.md#new-generation says.
 */
import { describe, expect, it } from 'vitest';
import {
  collectionZonesOf,
  mapCollection,
} from '#adapters/icloud/shared-collections/map-collection-records.ts';

const OWNER = '_owner';
const MEMBER = '_member';
const ZONE = 'SharedCollection-0A1B2C3D-0000-4000-8000-00000000AB01';

const share = {
  recordName: 'cloudkit.zoneshare',
  recordType: 'cloudkit.share',
  fields: {
    'cloudkit.title': { value: 'Ski ../2026', type: 'STRING' },
    'cloudkit.type': { value: 'photos_sharedcollections', type: 'STRING' },
  },
  participants: [
    {
      type: 'OWNER',
      userIdentity: { userRecordName: OWNER, nameComponents: { givenName: 'Ann', familyName: 'Lee' } },
    },
    {
      type: 'USER',
      userIdentity: { userRecordName: MEMBER, nameComponents: { givenName: 'Bo', familyName: 'Lee' } },
    },
  ],
};
const master = (name: string, by: string) => ({
  recordName: `M-${name}`,
  recordType: 'CPLMaster',
  created: { userRecordName: by, timestamp: 1 },
  fields: {
    filenameEnc: { value: Buffer.from(`${name}.HEIC`).toString('base64'), type: 'ENCRYPTED_BYTES' },
    originalCreationDate: { value: 1_780_000_000_000, type: 'TIMESTAMP' },
    resOriginalRes: {
      value: { fileChecksum: `C${name}`, size: 1234, downloadURL: `https://cvws.example/${name}` },
    },
    resOriginalFileType: { value: 'public.heic' },
    resOriginalWidth: { value: 4032 },
    resOriginalHeight: { value: 3024 },
  },
});
const asset = (name: string, by: string, isDeleted: unknown = 0) => ({
  recordName: `A-${name}`,
  recordType: 'CPLAsset',
  recordChangeTag: 't1',
  created: { userRecordName: by, timestamp: 2 },
  fields: {
    masterRef: { value: { recordName: `M-${name}` }, type: 'REFERENCE' },
    addedDate: { value: 1_780_000_100_000 },
    isDeleted: { value: isDeleted },
  },
});

describe('new-generation Shared Album records', () => {
  it('reads the title, the owner and each live item with its contributor and original', () => {
    const mapped = mapCollection([
      share,
      master('a', OWNER),
      asset('a', OWNER),
      master('b', MEMBER),
      asset('b', MEMBER),
    ]);
    expect(mapped.title).toBe('Ski ../2026');
    expect(mapped.ownerName).toBe('Ann Lee');
    expect(mapped.problems).toEqual([]);
    expect(mapped.items.map((i) => [i.assetGuid, i.fileName, i.contributorName, i.contributorDsid])).toEqual([
      ['A-a', 'a.HEIC', 'Ann Lee', OWNER],
      ['A-b', 'b.HEIC', 'Bo Lee', MEMBER],
    ]);
    expect(mapped.items[0]!.rendition).toEqual({
      field: 'resOriginalRes',
      downloadUrl: 'https://cvws.example/a',
      fileChecksum: 'Ca',
      size: 1234,
      uti: 'public.heic',
      width: 4032,
      height: 3024,
    });
  });

  it("keeps comments per item, oldest first, with the author's name; a comment joins the item's change tag", () => {
    const comment = (name: string, at: number, text: string) => ({
      recordName: name,
      recordType: 'CPLTextComment',
      created: { userRecordName: MEMBER, timestamp: at },
      fields: {
        commentText: { value: text },
        commentTimestamp: { value: at },
        associatedAssetRef: { value: { recordName: 'A-a' } },
      },
    });
    const without = mapCollection([share, master('a', OWNER), asset('a', OWNER)]);
    const mapped = mapCollection([
      share,
      master('a', OWNER),
      asset('a', OWNER),
      comment('c2', 20, 'two'),
      comment('c1', 10, 'one'),
    ]);
    expect(mapped.comments.get('A-a')).toEqual([
      { kind: 'text', text: 'one', author: 'Bo Lee', at: 10 },
      { kind: 'text', text: 'two', author: 'Bo Lee', at: 20 },
    ]);
    expect(mapped.items[0]!.changeTag).not.toBe(without.items[0]!.changeTag);
  });

  it('drops an item whose asset says isDeleted (1 or true), and keeps the latest copy of a record', () => {
    const mapped = mapCollection([
      share,
      master('a', OWNER),
      asset('a', OWNER),
      master('b', OWNER),
      asset('b', OWNER, true),
      asset('a', OWNER, 1),
      master('c', OWNER),
      asset('c', OWNER, 0),
    ]);
    expect(mapped.items.map((i) => i.assetGuid)).toEqual(['A-c']);
  });

  it('reports an item without its master or without a download URL, and reads the rest', () => {
    const noUrl = master('x', OWNER);
    noUrl.fields.resOriginalRes = { value: { fileChecksum: 'Cx', size: 1, downloadURL: '' } };
    const mapped = mapCollection([
      asset('orphan', OWNER),
      noUrl,
      asset('x', OWNER),
      master('ok', OWNER),
      asset('ok', OWNER),
    ]);
    expect(mapped.items.map((i) => i.assetGuid)).toEqual(['A-ok']);
    expect(mapped.problems.map((p) => p.message)).toEqual([
      'shared collection item A-orphan has no readable master',
      'shared collection item A-x has no original to download',
    ]);
    expect(mapped.title).toBeUndefined();
  });

  it('lists only SharedCollection zones, not deleted or failed entries nor library and link zones', () => {
    const listed = collectionZonesOf(
      'shared',
      [
        { zoneID: { zoneName: ZONE, ownerRecordName: OWNER }, syncToken: 'T1' },
        { zoneID: { zoneName: 'PrimarySync' }, syncToken: 'T2' },
        { zoneID: { zoneName: 'CMM-0A1B2C3D-0000-4000-8000-00000000AB01' }, syncToken: 'T3' },
        { zoneID: { zoneName: ZONE.replace('AB01', 'AB02') }, deleted: true },
        { zoneID: { zoneName: ZONE.replace('AB01', 'AB03') }, serverErrorCode: 'ZONE_NOT_FOUND' } as never,
      ],
      undefined,
    );
    expect(listed).toEqual([
      { zone: { database: 'shared', zoneName: ZONE, ownerRecordName: OWNER }, syncToken: 'T1' },
    ]);
  });
});
