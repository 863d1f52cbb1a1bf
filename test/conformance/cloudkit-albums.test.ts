import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import type { GroundTruthAlbum } from '#simulator/src/library/index.ts';
import { readRecordedJson } from '#test/helpers/recorded.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

/**
 * Albums, folders and membership (S56, S57, S61, S90, S100 in docs/protocol/simulator-contract.md): the album list and album
 * contents in the recorded shapes, ordered and paged; every album mutation of `/__sim/mutate`
 * visible through `changes/zone` with exactly its records; the albums' ground truth.
 */
type Field = { value?: unknown; type?: string };
type CkRecord = {
  recordName: string;
  recordType: string | null;
  deleted?: boolean;
  fields?: Record<string, Field>;
} & Record<string, unknown>;
type QueryReply = { records: CkRecord[]; continuationMarker?: string };

const eq = (fieldName: string, value: unknown, type = 'STRING') => ({
  fieldName,
  comparator: 'EQUALS',
  fieldValue: { type, value },
});
const nameOf = (r: CkRecord) =>
  r.fields?.albumNameEnc ? Buffer.from(String(r.fields.albumNameEnc.value), 'base64').toString('utf8') : null;
const typesOf = (records: CkRecord[]) => records.map((r) => r.recordType ?? 'tombstone').sort();

function query(ck: InProcessCloudKit, recordType: string, filters: unknown[] = [], extra = {}) {
  return ck.call<QueryReply>('records/query', {
    query: { recordType, filterBy: filters },
    zoneID: { zoneName: 'PrimarySync' },
    ...extra,
  });
}

async function token(ck: InProcessCloudKit): Promise<string> {
  const { json } = await ck.call<{ zones: { zoneID: { zoneName: string }; syncToken: string }[] }>(
    'changes/database',
    {},
  );
  return json.zones.find((z) => z.zoneID.zoneName === 'PrimarySync')!.syncToken;
}

async function delta(ck: InProcessCloudKit, from: string): Promise<CkRecord[]> {
  const out: CkRecord[] = [];
  let syncToken = from;
  for (;;) {
    const { json } = await ck.call<{
      zones: { syncToken: string; moreComing: boolean; records: CkRecord[] }[];
    }>('changes/zone', { zones: [{ zoneID: { zoneName: 'PrimarySync' }, syncToken }] });
    const page = json.zones[0]!;
    out.push(...page.records);
    syncToken = page.syncToken;
    if (!page.moreComing) return out;
  }
}

/** Every record of an album's contents, following continuation markers. */
async function contents(ck: InProcessCloudKit, index: string, album: string, resultsLimit = 200) {
  const records: CkRecord[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const { json } = await query(ck, index, [eq('parentId', album), eq('direction', 'ASCENDING')], {
      resultsLimit,
      ...(marker ? { continuationMarker: marker } : {}),
    });
    records.push(...json.records);
    marker = json.continuationMarker;
    pages += 1;
  } while (marker);
  return { records, pages };
}

const relationOrder = (records: CkRecord[]) =>
  records
    .filter((r) => r.recordType === 'CPLContainerRelation')
    .map((r) => r.fields!.itemId!.value as string);

describe('albums and folders (S56, S57, S61, S90, S100)', () => {
  let ck: InProcessCloudKit;
  const truth = () => ck.library.albumsTruth().albums;
  const byName = (name: string): GroundTruthAlbum => truth().find((a) => a.name === name && !a.deleted)!;

  beforeAll(async () => {
    ck = await openInProcessCloudKit({ seed: 14, assets: 400 });
  });

  it('S56: the album list answers in the recorded CPLAlbum shape, ordered by position', async () => {
    const recorded = (
      readRecordedJson('icloudpd', 'listing_albums.json') as {
        interactions: {
          request: { body: { json?: { query?: { recordType?: string } } } };
          response: { body: { json: QueryReply } };
        }[];
      }
    ).interactions.find((i) => i.request.body?.json?.query?.recordType === 'CPLAlbumByPositionLive')!.response
      .body.json.records;
    const { json } = await query(ck, 'CPLAlbumByPositionLive');
    expect(json.records.length).toBeGreaterThan(5);
    const envelope = (r: CkRecord) => Object.keys(r).sort().join(',');
    const fieldTypes = (records: CkRecord[]) => {
      const types = new Map<string, string>();
      for (const r of records)
        for (const [name, f] of Object.entries(r.fields ?? {}))
          types.set(name, `${f.type}/${typeof f.value}`);
      return types;
    };
    const recordedTypes = fieldTypes(recorded);
    for (const r of json.records) {
      expect(envelope(r)).toBe(envelope(recorded[1]!));
      for (const [name, shape] of fieldTypes([r]))
        expect(`${name}:${shape}`).toBe(`${name}:${recordedTypes.get(name)}`);
    }
    expect(json.records[0]!.recordName).toBe('----Root-Folder----');
    const positions = json.records.map((r) => r.fields!.position!.value as number);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    // The recorded names, including `/` and non-ASCII, are UTF-8 in ENCRYPTED_BYTES.
    expect(json.records.map(nameOf)).toEqual(expect.arrayContaining(['Garage vorher/nachher', 'Jörg']));
  });

  it('S56: the album list pages with continuationMarker', async () => {
    const all = (await query(ck, 'CPLAlbumByPositionLive')).json.records.map((r) => r.recordName);
    const paged: string[] = [];
    let marker: string | undefined;
    do {
      const { json } = await query(ck, 'CPLAlbumByPositionLive', [], {
        resultsLimit: 4,
        ...(marker ? { continuationMarker: marker } : {}),
      });
      expect(json.records.length).toBeLessThanOrEqual(4);
      paged.push(...json.records.map((r) => r.recordName));
      marker = json.continuationMarker;
    } while (marker);
    expect(paged).toEqual(all);
  });

  it('S57/S61: album contents come as relation+asset+master triples, paged by marker and by startRank', async () => {
    const album = truth()
      .filter((a) => a.albumType === 0 && !a.sentinel)
      .sort((a, b) => b.members.length - a.members.length)[0]!;
    expect(album.members.length).toBeGreaterThan(4);
    const whole = await contents(ck, 'CPLContainerRelationLiveByAssetDate', album.recordName);
    expect(typesOf(whole.records)).toEqual(
      [...Array(album.members.length).fill(['CPLAsset', 'CPLContainerRelation', 'CPLMaster'])].flat().sort(),
    );
    const paged = await contents(ck, 'CPLContainerRelationLiveByAssetDate', album.recordName, 6);
    expect(paged.pages).toBe(Math.ceil(album.members.length / 2));
    expect(relationOrder(paged.records)).toEqual(relationOrder(whole.records));
    // startRank counts photos (triples).
    const { json } = await query(
      ck,
      'CPLContainerRelationLiveByAssetDate',
      [eq('parentId', album.recordName), eq('startRank', 2, 'INT64'), eq('direction', 'ASCENDING')],
      { resultsLimit: 3 },
    );
    expect(relationOrder(json.records)).toEqual([relationOrder(whole.records)[2]]);
    for (const r of whole.records.filter((x) => x.recordType === 'CPLContainerRelation')) {
      expect(r.recordName).toBe(`${r.fields!.itemId!.value}-IN-${album.recordName}`);
      expect(r.fields!.containerId).toEqual({ value: album.recordName, type: 'STRING' });
      expect(r.fields!.position!.type).toBe('INT64');
    }
  });

  it('S100: create-album and create-album folder log one CPLAlbum each; folders nest to any depth', async () => {
    let from = await token(ck);
    const outer = await ck.library.mutate({ op: 'create-album', name: 'Reisen', folder: true });
    expect(typesOf(await delta(ck, from))).toEqual(['CPLAlbum', 'CPLLibraryInfo']);
    from = await token(ck);
    await ck.library.mutate({ op: 'create-album', name: '2024', folder: true, parent: 'Reisen' });
    await ck.library.mutate({ op: 'create-album', name: 'Lissabon', parent: '2024' });
    const records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAlbum', 'CPLAlbum', 'CPLLibraryInfo']);
    const reisen = byName('Reisen');
    const year = byName('2024');
    expect(outer.changed.map((c) => c.recordName)).toContain(reisen.recordName);
    expect(year).toMatchObject({ albumType: 3, parentRecordName: reisen.recordName });
    expect(byName('Lissabon')).toMatchObject({
      albumType: 0,
      parentRecordName: year.recordName,
      members: [],
    });
    const lissabon = records.find((r) => nameOf(r) === 'Lissabon')!;
    expect(lissabon.fields!.parentId).toEqual({ value: year.recordName, type: 'STRING' });
    expect(lissabon.fields!.albumType).toEqual({ value: 0, type: 'INT64' });
    // The unfiltered list is the top level; parentId lists one folder's children.
    const top = (await query(ck, 'CPLAlbumByPositionLive')).json.records.map(nameOf);
    expect(top).toContain('Reisen');
    expect(top).not.toContain('2024');
    expect(top).not.toContain('Lissabon');
    const inYear = (await query(ck, 'CPLAlbumByPositionLive', [eq('parentId', year.recordName)])).json
      .records;
    expect(inYear.map(nameOf)).toEqual(['Lissabon']);
    await expect(ck.library.mutate({ op: 'create-album', name: 'x', parent: 'Lissabon' })).rejects.toThrow(
      /not a folder/,
    );
  });

  it('S100: rename-album logs only the CPLAlbum, with the new name as UTF-8 (NFD kept)', async () => {
    const album = byName('Holidays 2019');
    const from = await token(ck);
    await ck.library.mutate({ op: 'rename-album', album: album.recordName, name: 'Urlaub Jo\u0308rg' });
    const records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAlbum', 'CPLLibraryInfo']);
    const record = records.find((r) => r.recordType === 'CPLAlbum')!;
    expect(record.recordName).toBe(album.recordName);
    expect(record.fields!.albumNameEnc).toEqual({
      value: Buffer.from('Urlaub Jo\u0308rg', 'utf8').toString('base64'),
      type: 'ENCRYPTED_BYTES',
    });
  });

  it('S100: move-album changes only the CPLAlbum: parentId set, then gone at the top level', async () => {
    const album = byName('CON');
    const folder = byName('Family');
    let from = await token(ck);
    await ck.library.mutate({ op: 'move-album', album: album.recordName, parent: folder.recordName });
    let records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAlbum', 'CPLLibraryInfo']);
    expect(records[0]!.fields!.parentId).toEqual({ value: folder.recordName, type: 'STRING' });
    const children = (await query(ck, 'CPLAlbumByPositionLive', [eq('parentId', folder.recordName)])).json
      .records;
    expect(children.map((r) => r.recordName)).toContain(album.recordName);
    expect((await query(ck, 'CPLAlbumByPositionLive')).json.records.map((r) => r.recordName)).not.toContain(
      album.recordName,
    );
    from = await token(ck);
    await ck.library.mutate({ op: 'move-album', album: album.recordName, parent: null, position: 1 });
    records = await delta(ck, from);
    expect(records[0]!.fields!.parentId).toBeUndefined();
    expect(records[0]!.fields!.position).toEqual({ value: 1, type: 'INT64' });
    // Position 1 puts it right after the sentinels (position 0).
    const top = (await query(ck, 'CPLAlbumByPositionLive')).json.records.map((r) => r.recordName);
    expect(top.slice(0, 3)).toEqual(['----Root-Folder----', '----Project-Root-Folder----', album.recordName]);
    await expect(
      ck.library.mutate({ op: 'move-album', album: folder.recordName, parent: folder.recordName }),
    ).rejects.toThrow(/itself/);
  });

  it('S100: album-add appends at the end (by position); reorder-album logs the moved relations and the album', async () => {
    const album = truth()
      .filter((a) => a.albumType === 0 && !a.sentinel && !a.deleted)
      .sort((a, b) => b.members.length - a.members.length)[0]!;
    const stranger = (
      await query(ck, 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted')
    ).json.records.find(
      (r) => r.recordType === 'CPLAsset' && !album.members.some((m) => m.assetRecordName === r.recordName),
    )!;
    let from = await token(ck);
    await ck.library.mutate({
      op: 'album-add',
      assetRecordName: stranger.recordName,
      album: album.recordName,
    });
    let records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAlbum', 'CPLContainerRelation', 'CPLLibraryInfo']);
    const last = Math.max(...album.members.map((m) => m.position));
    expect(records.find((r) => r.recordType === 'CPLContainerRelation')!.fields!.position!.value).toBe(
      last + 1024,
    );
    const members = truth()
      .find((a) => a.recordName === album.recordName)!
      .members.map((m) => m.assetRecordName);
    expect(members.at(-1)).toBe(stranger.recordName);
    const byPosition = await contents(ck, 'CPLContainerRelationLiveByPosition', album.recordName, 9);
    expect(relationOrder(byPosition.records)).toEqual(members);

    const byDate = relationOrder(
      (await contents(ck, 'CPLContainerRelationLiveByAssetDate', album.recordName)).records,
    );
    // Reverse the album: every relation whose position changed, plus the album.
    const reversed = [...members].reverse();
    from = await token(ck);
    const result = await ck.library.mutate({
      op: 'reorder-album',
      album: album.recordName,
      assetRecordNames: reversed,
    });
    records = await delta(ck, from);
    const relations = records.filter((r) => r.recordType === 'CPLContainerRelation');
    expect(relations.length).toBe(members.length);
    expect(typesOf(records.filter((r) => r.recordType !== 'CPLContainerRelation'))).toEqual([
      'CPLAlbum',
      'CPLLibraryInfo',
    ]);
    expect(result.changed.filter((c) => c.recordType === 'CPLContainerRelation')).toHaveLength(
      members.length,
    );
    expect(
      truth()
        .find((a) => a.recordName === album.recordName)!
        .members.map((m) => m.assetRecordName),
    ).toEqual(reversed);
    expect(
      relationOrder((await contents(ck, 'CPLContainerRelationLiveByPosition', album.recordName, 9)).records),
    ).toEqual(reversed);
    // The date index keeps capture order.
    expect(
      relationOrder((await contents(ck, 'CPLContainerRelationLiveByAssetDate', album.recordName)).records),
    ).toEqual(byDate);
    // Lookup serves the relation's current position.
    const { json } = await ck.call<{ records: CkRecord[] }>('records/lookup', {
      records: [{ recordName: `${reversed[0]}-IN-${album.recordName}` }, { recordName: album.recordName }],
      zoneID: { zoneName: 'PrimarySync' },
    });
    expect(json.records[0]!.fields!.position).toEqual({ value: 1024, type: 'INT64' });
    expect(json.records[1]!.recordType).toBe('CPLAlbum');
    await expect(
      ck.library.mutate({
        op: 'reorder-album',
        album: album.recordName,
        assetRecordNames: reversed.slice(1),
      }),
    ).rejects.toThrow(/every member/);
  });

  it('S100: album-remove tombstones the relation; delete-album sends the CPLAlbum with isDeleted 1', async () => {
    const album = truth()
      .filter((a) => a.albumType === 0 && !a.sentinel && !a.deleted && a.members.length > 1)
      .at(-1)!;
    const leaving = album.members[0]!.assetRecordName;
    let from = await token(ck);
    await ck.library.mutate({ op: 'album-remove', assetRecordName: leaving, album: album.recordName });
    let records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAlbum', 'CPLLibraryInfo', 'tombstone']);
    expect(records.find((r) => r.deleted)).toMatchObject({
      recordName: `${leaving}-IN-${album.recordName}`,
      recordType: null,
    });
    from = await token(ck);
    await ck.library.mutate({ op: 'delete-album', album: album.recordName });
    records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAlbum', 'CPLLibraryInfo']);
    expect(records[0]!.fields!.isDeleted).toEqual({ value: 1, type: 'INT64' });
    const listed = (await query(ck, 'CPLAlbumByPositionLive')).json.records.map((r) => r.recordName);
    expect(listed).not.toContain(album.recordName);
    expect((await contents(ck, 'CPLContainerRelationLiveByAssetDate', album.recordName)).records).toEqual([]);
    expect(truth().find((a) => a.recordName === album.recordName)).toMatchObject({
      deleted: true,
      members: [],
    });
  });

  it('S100: deleting a folder deletes the folders and albums inside it, each CPLAlbum with isDeleted 1', async () => {
    const reisen = byName('Reisen');
    const inside = truth().filter((a) => a.name === '2024' || a.name === 'Lissabon');
    expect(inside).toHaveLength(2);
    const from = await token(ck);
    await ck.library.mutate({ op: 'delete-album', album: reisen.recordName });
    const records = await delta(ck, from);
    expect(typesOf(records)).toEqual(['CPLAlbum', 'CPLAlbum', 'CPLAlbum', 'CPLLibraryInfo']);
    for (const r of records.filter((x) => x.recordType === 'CPLAlbum'))
      expect(r.fields!.isDeleted).toEqual({ value: 1, type: 'INT64' });
    expect(new Set(records.map((r) => r.recordName))).toEqual(
      new Set([reisen.recordName, ...inside.map((a) => a.recordName), 'PrimarySync-0000-LI']),
    );
    await expect(ck.library.mutate({ op: 'delete-album', album: reisen.recordName })).rejects.toThrow(
      /already deleted/,
    );
  });
});

describe('album changes survive a restart (S84)', () => {
  it('replays album ops from the state dir: same albums, members, positions and change feed', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'sim-albums-'));
    try {
      const first = await openInProcessCloudKit({ seed: 15, assets: 200, stateDir });
      const from = await token(first);
      const album = first.library
        .albumsTruth()
        .albums.filter((a) => a.albumType === 0 && !a.sentinel)
        .sort((a, b) => b.members.length - a.members.length)[0]!;
      const order = album.members.map((m) => m.assetRecordName).reverse();
      await first.library.mutate({ op: 'create-album', name: 'Ordner', folder: true });
      await first.library.mutate({ op: 'move-album', album: album.recordName, parent: 'Ordner' });
      await first.library.mutate({ op: 'reorder-album', album: album.recordName, assetRecordNames: order });
      const before = { truth: first.library.albumsTruth(), feed: await delta(first, from) };
      await first.library.close();
      const second = await openInProcessCloudKit({ seed: 15, assets: 200, stateDir });
      expect(second.library.albumsTruth()).toEqual(before.truth);
      const strip = (records: CkRecord[]) =>
        records.map(({ recordName, recordChangeTag, fields }) => ({ recordName, recordChangeTag, fields }));
      expect(strip(await delta(second, from))).toEqual(strip(before.feed));
      await second.library.close();
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe('GET /__sim/library/albums', () => {
  let sim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startTestSimulator({ assets: 120 });
  });
  afterAll(() => sim.stop());

  it('lists every album and folder with its parent, position and members in order', async () => {
    const reply = await fetch(`${sim.controlUrl}/library/albums`);
    expect(reply.status).toBe(200);
    const { albums } = (await reply.json()) as { albums: GroundTruthAlbum[] };
    expect(albums.filter((a) => a.sentinel).map((a) => a.recordName)).toEqual([
      '----Root-Folder----',
      '----Project-Root-Folder----',
    ]);
    const family = albums.find((a) => a.name === 'Family')!;
    expect(family).toMatchObject({ albumType: 3, parentRecordName: null, members: [] });
    expect(albums.find((a) => a.parentRecordName === family.recordName)?.name).toBe('Kids');
    const { assets } = (await (await fetch(`${sim.controlUrl}/library?sha256=false`)).json()) as {
      assets: { assetRecordName: string; albumRecordNames: string[] }[];
    };
    for (const album of albums) {
      const positions = album.members.map((m) => m.position);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      const expected = assets
        .filter((a) => a.albumRecordNames.includes(album.recordName))
        .map((a) => a.assetRecordName);
      expect(album.members.map((m) => m.assetRecordName).sort()).toEqual(expected.sort());
    }
  });
});
