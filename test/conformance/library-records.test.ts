import { beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';
import type { GroundTruthAsset } from '#simulator/src/library/index.ts';
import { openMedia } from '#simulator/src/media/index.ts';

type Field = { value?: unknown; type?: string };
type CkRecord = {
  recordName: string;
  recordType: string | null;
  deleted: boolean;
  recordChangeTag: string;
  fields?: Record<string, Field>;
  modified?: { timestamp: number };
  expirationTime?: number;
  serverErrorCode?: string;
};
const DAY = 86_400_000;

async function lookup(ck: InProcessCloudKit, names: string[], zoneName = 'PrimarySync') {
  const { json } = await ck.call<{ records: CkRecord[] }>('records/lookup', {
    records: names.map((recordName) => ({ recordName })),
    zoneID: { zoneName },
  });
  return json.records;
}

async function token(ck: InProcessCloudKit, zoneName = 'PrimarySync'): Promise<string> {
  const { json } = await ck.call<{ zones: { zoneID: { zoneName: string }; syncToken: string }[] }>(
    'changes/database',
    {},
  );
  return json.zones.find((z) => z.zoneID.zoneName === zoneName)!.syncToken;
}

async function delta(ck: InProcessCloudKit, from: string, zoneName = 'PrimarySync'): Promise<CkRecord[]> {
  const out: CkRecord[] = [];
  let syncToken = from;
  for (;;) {
    const { json } = await ck.call<{
      zones: { syncToken: string; moreComing: boolean; records: CkRecord[] }[];
    }>('changes/zone', { zones: [{ zoneID: { zoneName }, syncToken }] });
    const page = json.zones[0]!;
    out.push(...page.records);
    syncToken = page.syncToken;
    if (!page.moreComing) return out;
  }
}

const typesOf = (records: CkRecord[]) => records.map((r) => r.recordType ?? 'tombstone').sort();

describe('records and library content (S70-S71, S90-S101)', () => {
  let ck: InProcessCloudKit;
  let truth: GroundTruthAsset[];
  const pick = (pred: (a: GroundTruthAsset) => boolean) => truth.find(pred)!;
  const plain = (i: number) =>
    truth.filter(
      (a) =>
        a.zone === 'PrimarySync' &&
        a.kind === 'jpeg' &&
        !a.isDeleted &&
        !a.isHidden &&
        a.fileNameEncoding === 'ENCRYPTED_BYTES',
    )[i]!;

  beforeAll(async () => {
    ck = await openInProcessCloudKit({ seed: 8, assets: 80 });
    truth = [...(await ck.library.groundTruth({ sha256: false })).assets];
  });

  it('S70: lookup returns current records with fresh URLs, trashed ones included, and NOT_FOUND items', async () => {
    const trashed = pick((a) => a.isDeleted && a.zone === 'PrimarySync');
    const first = await lookup(ck, [trashed.masterRecordName, trashed.assetRecordName, 'NoSuchRecord']);
    expect(first[0]!.fields!.isDeleted!.value).toBe(1);
    expect(first[2]).toEqual({
      recordName: 'NoSuchRecord',
      serverErrorCode: 'NOT_FOUND',
      reason: 'Record not found',
    });
    const again = await lookup(ck, [trashed.masterRecordName]);
    const url = (r: CkRecord) => (r.fields!.resOriginalRes!.value as { downloadURL: string }).downloadURL;
    expect(url(again[0]!)).not.toBe(url(first[0]!));
  });

  it('S71: records/modify soft-deletes a CPLAsset with the master cascade and bumps the change tag', async () => {
    const asset = plain(0);
    const before = await lookup(ck, [asset.assetRecordName]);
    const from = await token(ck);
    const { json } = await ck.call<{ records: CkRecord[] }>('records/modify', {
      atomic: true,
      desiredKeys: ['isDeleted'],
      operations: [
        {
          operationType: 'update',
          record: {
            recordName: asset.assetRecordName,
            recordType: 'CPLAsset',
            recordChangeTag: '21h2',
            fields: { isDeleted: { value: 1 } },
          },
        },
      ],
      zoneID: { zoneName: 'PrimarySync' },
    });
    expect(json.records[0]!.fields).toEqual({ isDeleted: { value: 1, type: 'INT64' } });
    expect(json.records[0]!.recordChangeTag).not.toBe(before[0]!.recordChangeTag);
    const changed = await delta(ck, from);
    expect(typesOf(changed)).toEqual(['CPLAsset', 'CPLLibraryInfo', 'CPLMaster']);
  });

  it('S71: records/modify forceDelete of a container relation removes the photo from the album', async () => {
    const member = pick((a) => a.albumRecordNames.length > 0 && !a.isDeleted);
    const relation = `${member.assetRecordName}-IN-${member.albumRecordNames[0]}`;
    const { json } = await ck.call<{ records: CkRecord[] }>('records/modify', {
      operations: [{ operationType: 'forceDelete', record: { recordName: relation } }],
      zoneID: { zoneName: 'PrimarySync' },
    });
    expect(json.records[0]).toEqual({ recordName: relation, deleted: true });
  });

  it('S90: master names are 28-char base64 equal to the fingerprint and checksum; asset names upper-case UUIDs', async () => {
    const names = truth.filter((a) => a.zone === 'PrimarySync').map((a) => a.masterRecordName);
    expect(names.every((n) => /^A[A-Za-z0-9+/]{27}$/.test(n))).toBe(true);
    expect(names.some((n) => n.includes('+') || n.includes('/'))).toBe(true);
    const [master] = await lookup(ck, [plain(1).masterRecordName]);
    expect(master!.fields!.resOriginalFingerprint!.value).toBe(master!.recordName);
    expect((master!.fields!.resOriginalRes!.value as { fileChecksum: string }).fileChecksum).toBe(
      master!.recordName,
    );
    expect(
      truth.every((a) =>
        /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/.test(a.assetRecordName),
      ),
    ).toBe(true);
  });

  it('S91: filenameEnc can have bad base64 padding or non-UTF-8 bytes only under the unrecordedFilenameEncodings quirk', async () => {
    ck.library.quirks.unrecordedFilenameEncodings = true;
    try {
      const all = (await ck.library.groundTruth({ sha256: false })).assets;
      const field = async (a: GroundTruthAsset | undefined) =>
        (await lookup(ck, [a!.masterRecordName]))[0]!.fields!.filenameEnc;
      const badBase64 = all.find((a) => a.fileNameEncoding === 'badBase64');
      const nonUtf8 = all.find((a) => a.fileNameEncoding === 'nonUtf8');
      expect(String((await field(badBase64))?.value).length % 4).not.toBe(0);
      const bytes = Buffer.from(String((await field(nonUtf8))?.value), 'base64');
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
      // Off (the default): the same records carry ordinary base64 of UTF-8 names.
      ck.library.quirks.unrecordedFilenameEncodings = false;
      for (const asset of [badBase64, nonUtf8]) {
        const value = String((await field(asset))?.value);
        expect(Buffer.from(value, 'base64').toString('base64')).toBe(value);
        expect(Buffer.from(value, 'base64').toString('utf8')).toBe(asset!.fileName);
      }
      expect(truth.some((a) => a.fileNameEncoding === 'badBase64' || a.fileNameEncoding === 'nonUtf8')).toBe(
        false,
      );
      await expect(
        ck.library.mutate({ op: 'add', kind: 'jpeg', filenameEncoding: 'nonUtf8' }),
      ).rejects.toThrow(/unrecordedFilenameEncodings/);
    } finally {
      ck.library.quirks.unrecordedFilenameEncodings = false;
    }
  });

  it('S91: filenameEnc is ENCRYPTED_BYTES base64 by default, with STRING, missing, forbidden, non-ASCII and empty cases', async () => {
    const field = async (a: GroundTruthAsset) =>
      (await lookup(ck, [a.masterRecordName]))[0]!.fields!.filenameEnc;
    const normal = plain(2);
    expect(await field(normal)).toEqual({
      value: Buffer.from(normal.fileName).toString('base64'),
      type: 'ENCRYPTED_BYTES',
    });
    const byEncoding = (e: string) => field(pick((a) => a.fileNameEncoding === e));
    expect((await byEncoding('STRING'))?.type).toBe('STRING');
    expect(await byEncoding('missing')).toBeUndefined();
    expect((await byEncoding('empty'))?.value).toBe('');
    const forbidden = await field(pick((a) => a.fileName.includes('\u0000')));
    expect(Buffer.from(String(forbidden?.value), 'base64').toString()).toMatch(/[<>:"|?*]/);
    const chinese = await field(pick((a) => a.fileName.includes('中文')));
    expect(Buffer.from(String(chinese?.value), 'base64').toString()).toBe('IMG_中文_7409.JPG');
  });

  it('S92: itemType can be missing, valueless, or an unknown UTI', async () => {
    const masters = await lookup(
      ck,
      truth.filter((a) => a.zone === 'PrimarySync').map((a) => a.masterRecordName),
    );
    const itemTypes = masters.map((m) => m.fields!.itemType);
    expect(itemTypes.some((t) => t === undefined)).toBe(true);
    expect(itemTypes.some((t) => t !== undefined && !('value' in t))).toBe(true);
    expect(itemTypes.some((t) => t?.value === 'com.example.unknown-type')).toBe(true);
  });

  it('S93: the generator produces every kind with its resources and asset hints', async () => {
    const records = async (kind: string, extra: (a: GroundTruthAsset) => boolean = () => true) => {
      const a = pick((x) => x.kind === kind && x.zone === 'PrimarySync' && extra(x));
      const [master, asset] = await lookup(ck, [a.masterRecordName, a.assetRecordName]);
      return { m: master!.fields!, a: asset!.fields!, truth: a };
    };
    for (const kind of ['jpeg', 'heic', 'png']) expect((await records(kind)).m.dataClassType!.value).toBe(1);
    const video = await records('video', (a) => !a.adjustmentType);
    expect(video.m.dataClassType!.value).toBe(2);
    expect(video.m.resVidMedFileType!.value).toBe('public.mpeg-4');
    expect(video.m.resVidSmallRes).toBeDefined();
    const live = await records('live');
    expect(live.m.resOriginalVidComplFileType!.value).toBe('com.apple.quicktime-movie');
    expect(live.a.assetSubtypeV2!.value).toBe(2);
    expect(live.a.vidComplDurValue!.value).not.toBe(0);
    expect((await records('raw')).m.resOriginalAltRes).toBeDefined();
    const edited = await records('heic', (a) => a.adjustmentType === 'com.apple.photo');
    expect(edited.a.resJPEGFullRes).toBeDefined();
    expect(edited.a.resJPEGThumbRes).toBeDefined();
    expect((await records('video', (a) => a.adjustmentType !== undefined)).a.resVidFullRes).toBeDefined();
    const slomo = await records('slomo');
    expect(slomo.a.adjustmentType!.value).toBe('com.apple.video.slomo');
    expect(Object.keys(slomo.a).some((k) => k.startsWith('res'))).toBe(false);
    const screenshot = await records('screenshot');
    expect(screenshot.a.assetSubtypeV2!.value).toBe(3);
    expect(screenshot.a.adjustmentType!.value).toBe('ScreenshotServices');
    expect(screenshot.a.resJPEGFullFileType!.value).toBe('public.jpeg');
    expect(screenshot.m.resOriginalFileType!.value).toBe('public.png');
    expect((await records('burst')).a.burstId).toBeDefined();
    const masters = truth.map((a) => `${a.zone}|${a.masterRecordName}`);
    expect(new Set(masters).size).toBeLessThan(masters.length);
    expect(truth.some((a) => a.isHidden)).toBe(true);
    expect(truth.some((a) => a.isFavorite)).toBe(true);
    expect(truth.some((a) => a.isDeleted)).toBe(true);
  });

  it('S94: a resource token can come without downloadURL', async () => {
    const a = pick((x) => x.versions.some((v) => !v.downloadable));
    const [master] = await lookup(ck, [a.masterRecordName]);
    const token = master!.fields!.resJPEGThumbRes!.value as Record<string, unknown>;
    expect(token.downloadURL).toBeUndefined();
    expect(token.fileChecksum).toBeDefined();
  });

  it('S95: isDeleted is absent when never deleted, 1 when trashed, {"value": null} after restore; flags always present', async () => {
    const asset = plain(3);
    const [fresh] = await lookup(ck, [asset.assetRecordName]);
    expect(fresh!.fields!.isDeleted).toBeUndefined();
    expect(fresh!.fields!.isHidden).toEqual({ value: 0, type: 'INT64' });
    expect(fresh!.fields!.isFavorite).toEqual({ value: 0, type: 'INT64' });
    await ck.library.mutate({ op: 'trash', assetRecordName: asset.assetRecordName });
    expect((await lookup(ck, [asset.assetRecordName]))[0]!.fields!.isDeleted).toEqual({
      value: 1,
      type: 'INT64',
    });
    await ck.library.mutate({ op: 'restore', assetRecordName: asset.assetRecordName });
    expect((await lookup(ck, [asset.assetRecordName]))[0]!.fields!.isDeleted).toEqual({ value: null });
    ck.library.quirks = { ...ck.library.quirks, explicitIsDeletedZero: true };
    const [explicit] = await lookup(ck, [plain(4).assetRecordName]);
    ck.library.quirks = { ...ck.library.quirks, explicitIsDeletedZero: false };
    expect(explicit!.fields!.isDeleted).toEqual({ value: 0, type: 'INT64' });
  });

  it('S96: timeZoneOffset is seconds east of UTC and matches the EXIF time of the served JPEG', async () => {
    const a = plain(5);
    const [record] = await lookup(ck, [a.assetRecordName]);
    const offset = record!.fields!.timeZoneOffset!.value as number;
    const assetDate = record!.fields!.assetDate!.value as number;
    const spec = ck.library.resolveResource(a.versions.find((v) => v.kind === 'original')!.fileChecksum)!;
    const chunks: Buffer[] = [];
    for await (const chunk of openMedia(spec, { start: 0, end: Math.min(spec.size, 65_536) - 1 }))
      chunks.push(chunk as Buffer);
    const local = new Date(assetDate + offset * 1000).toISOString();
    const exif = `${local.slice(0, 4)}:${local.slice(5, 7)}:${local.slice(8, 10)} ${local.slice(11, 19)}`;
    expect(Buffer.concat(chunks).includes(exif, 0, 'latin1')).toBe(true);
  });

  it('S97: soft delete marks both records, sets dateExpunged now+30d and expirationTime +10d, moves the pair to the trash index', async () => {
    const asset = plain(6);
    const from = await token(ck);
    const now = ck.clock.now();
    await ck.library.mutate({ op: 'trash', assetRecordName: asset.assetRecordName });
    const records = await delta(ck, from);
    const master = records.find((r) => r.recordType === 'CPLMaster')!;
    const rec = records.find((r) => r.recordType === 'CPLAsset')!;
    for (const r of [master, rec]) {
      expect(r.fields!.isDeleted!.value).toBe(1);
      const expunged = r.fields!.dateExpunged!.value as number;
      expect(Math.abs(expunged - (now + 30 * DAY))).toBeLessThan(5000);
      expect(r.expirationTime).toBe(Math.floor(expunged / 1000) + 864_000);
    }
    expect(rec.fields!.isExpunged!.value).toBe(0);
    const count = async (index: string) => {
      const { json } = await ck.call<{ records: CkRecord[] }>('records/query', {
        query: { recordType: index },
        resultsLimit: 200,
        zoneID: { zoneName: 'PrimarySync' },
      });
      return json.records.filter((r) => r.recordName === asset.assetRecordName).length;
    };
    expect(await count('CPLAssetAndMasterDeletedByExpungedDate')).toBe(1);
    expect(await count('CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted')).toBe(0);
    ck.library.quirks = { ...ck.library.quirks, dateExpungedNull: true };
    const [nulled] = await lookup(ck, [asset.assetRecordName]);
    ck.library.quirks = { ...ck.library.quirks, dateExpungedNull: false };
    expect(nulled!.fields!.dateExpunged).toEqual({ value: null });
  });

  it('S98: restore re-sends only the CPLAsset, with isDeleted and isExpunged null', async () => {
    const asset = plain(7);
    await ck.library.mutate({ op: 'trash', assetRecordName: asset.assetRecordName });
    const from = await token(ck);
    await ck.library.mutate({ op: 'restore', assetRecordName: asset.assetRecordName });
    const records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAsset', 'CPLLibraryInfo']);
    expect(records[0]!.fields).toMatchObject({ isDeleted: { value: null }, isExpunged: { value: null } });
  });

  it('S99: purge appends two tombstones, also when the clock passes dateExpunged', async () => {
    const explicit = plain(8);
    const from = await token(ck);
    await ck.library.mutate({ op: 'purge', assetRecordName: explicit.assetRecordName });
    const tombstones = (await delta(ck, from)).filter((r) => r.deleted);
    expect(tombstones.map((r) => r.recordName).sort()).toEqual(
      [explicit.assetRecordName, explicit.masterRecordName].sort(),
    );

    const expiring = plain(9);
    await ck.library.mutate({ op: 'trash', assetRecordName: expiring.assetRecordName });
    const beforeExpiry = await token(ck);
    ck.clock.advance(31 * DAY);
    const expired = (await delta(ck, beforeExpiry)).filter((r) => r.deleted).map((r) => r.recordName);
    expect(expired).toEqual(expect.arrayContaining([expiring.assetRecordName, expiring.masterRecordName]));
    expect((await lookup(ck, [expiring.assetRecordName]))[0]!.serverErrorCode).toBe('NOT_FOUND');
  });

  it('S100: hide, unhide, favourite, edit and revert send only the CPLAsset (plus library info)', async () => {
    const asset = plain(10);
    for (const op of ['hide', 'unhide', 'favorite', 'unfavorite', 'edit', 'revert-edit'] as const) {
      const from = await token(ck);
      await ck.library.mutate({ op, assetRecordName: asset.assetRecordName });
      const records = await delta(ck, from);
      expect(typesOf(records)).toEqual(['CPLAsset', 'CPLLibraryInfo']);
      if (op === 'unhide') expect(records[0]!.fields!.isHidden).toEqual({ value: 0, type: 'INT64' });
      if (op === 'edit') expect(records[0]!.fields!.resJPEGFullRes).toBeDefined();
      if (op === 'revert-edit') expect(records[0]!.fields!.adjustmentType).toBeUndefined();
    }
  });

  it('S100: album add gives the album and a new relation; remove gives a relation tombstone and the album', async () => {
    const asset = plain(11);
    const album = 'Kids';
    let from = await token(ck);
    await ck.library.mutate({ op: 'album-add', assetRecordName: asset.assetRecordName, album });
    const added = await delta(ck, from);
    expect(typesOf(added)).toEqual(['CPLAlbum', 'CPLContainerRelation', 'CPLLibraryInfo']);
    const relation = added.find((r) => r.recordType === 'CPLContainerRelation')!;
    expect(relation.recordName).toMatch(new RegExp(`^${asset.assetRecordName}-IN-`));
    from = await token(ck);
    await ck.library.mutate({ op: 'album-remove', assetRecordName: asset.assetRecordName, album });
    const removed = await delta(ck, from);
    expect(typesOf(removed)).toEqual(['CPLAlbum', 'CPLLibraryInfo', 'tombstone']);
    expect(removed.find((r) => r.deleted)!.recordName).toBe(relation.recordName);
  });

  it('S100: duplicate adds one CPLAsset pointing at the existing master, which is re-sent', async () => {
    const asset = plain(12);
    const from = await token(ck);
    const result = await ck.library.mutate({ op: 'duplicate', assetRecordName: asset.assetRecordName });
    const records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAsset', 'CPLLibraryInfo', 'CPLMaster']);
    expect(result.assets[0]!.masterRecordName).toBe(asset.masterRecordName);
    expect(records.find((r) => r.recordType === 'CPLMaster')!.recordName).toBe(asset.masterRecordName);
  });

  it('S100: adding to a classic shared album updates the CPLAsset and flags the Shared Library zone', async () => {
    const asset = plain(13);
    const db = (await ck.call<{ syncToken: string }>('changes/database', {})).json.syncToken;
    const from = await token(ck);
    await ck.library.mutate({ op: 'shared-album-add', assetRecordName: asset.assetRecordName });
    const records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAsset', 'CPLLibraryInfo']);
    expect(records[0]!.fields!.lastSharedDate).toBeDefined();
    const zones = await ck.call<{ zones: { zoneID: { zoneName: string } }[] }>('changes/database', {
      syncToken: db,
    });
    expect(zones.json.zones.map((z) => z.zoneID.zoneName)).toContain(ck.family.sharedZoneName);
  });

  it('S101: every change bumps recordChangeTag and modified.timestamp and logs CPLLibraryInfo', async () => {
    const asset = plain(14);
    const [before] = await lookup(ck, [asset.assetRecordName]);
    ck.clock.advance(5000);
    const from = await token(ck);
    await ck.library.mutate({ op: 'favorite', assetRecordName: asset.assetRecordName });
    const [after] = await lookup(ck, [asset.assetRecordName]);
    expect(after!.recordChangeTag).not.toBe(before!.recordChangeTag);
    expect(after!.modified!.timestamp).toBeGreaterThan(before!.modified!.timestamp);
    const info = (await delta(ck, from)).find((r) => r.recordType === 'CPLLibraryInfo')!;
    expect(info.recordName).toBe('PrimarySync-0000-LI');
    expect(info.fields!.photosCount!.type).toBe('INT64');
  });
});
