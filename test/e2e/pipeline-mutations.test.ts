/**
 * Every kind of library change, end to end: the simulator changes the library as Apple would,
 * one sync runs, and the archive (objects and manifest) must show exactly that change, found
 * with at most two detection requests and downloaded only when there are new bytes.
 * Default policies: every version of the default selection, deletions `keep`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedDigests } from '#test/helpers/local-archive.ts';
import {
  cdnRequests,
  detectionRequests,
  objectEtags,
  type PipelineHarness,
  type SyncStep,
  startPipelineHarness,
  type TruthAssetDetail,
  union,
} from '#test/helpers/pipeline-harness.ts';

let h: PipelineHarness;
const used = new Set<string>();

/** A live asset of the owner's PrimarySync no other test of this file has touched. */
async function pickAsset(predicate: (asset: TruthAssetDetail) => boolean): Promise<TruthAssetDetail> {
  const asset = (await h.truth()).find(
    (a) =>
      a.zone === 'PrimarySync' &&
      !a.isDeleted &&
      !a.isHidden &&
      !used.has(a.masterRecordName) &&
      predicate(a),
  );
  if (asset === undefined) throw new Error('the generated library has no such asset');
  used.add(asset.masterRecordName);
  return asset;
}

const plainPhoto = (a: TruthAssetDetail) =>
  (a.kind === 'jpeg' || a.kind === 'heic') && a.adjustmentType === undefined;

/** Detection cost and the archive's digests: the library's plus whatever `keep` retains. */
async function expectCheapAndComplete(step: SyncStep): Promise<void> {
  expect(step.summary.outcome).toBe('succeeded');
  expect(detectionRequests(step.stats)).toBeLessThanOrEqual(2);
  expect(step.after.digests).toEqual(union(expectedDigests(await h.truth()), step.before.digests));
}

/** A change that needs no bytes: no download, no object written, renamed or removed. */
function expectNoObjectChange(step: SyncStep): void {
  expect(cdnRequests(step.stats)).toBe(0);
  expect(objectEtags(step.after)).toEqual(objectEtags(step.before));
}

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 20, seed: 21 });
  // Plain photos for the tests below to change, one each.
  await h.mutate({ op: 'add', kind: 'photo', count: 6 });
  await h.mutate({ op: 'add', kind: 'heic', count: 2 });
  const first = await h.sync();
  expect(first.outcome).toBe('succeeded');
  expect((await h.snapshot()).digests).toEqual(expectedDigests(await h.truth()));
});

afterAll(async () => {
  await h?.stop();
});

describe('a new asset', () => {
  const cases = [
    { kind: 'photo', kinds: ['original'] },
    { kind: 'video', kinds: ['original'] },
    { kind: 'live', kinds: ['original', 'live'] },
    { kind: 'raw', kinds: ['original', 'alternative'] },
    { kind: 'edited', kinds: ['original', 'adjusted'] },
    { kind: 'edited-video', kinds: ['original', 'adjusted'] },
  ] as const;
  for (const { kind, kinds } of cases) {
    it(`archives a new ${kind} as ${kinds.join(' + ')}, one download per file`, async () => {
      const step = await h.step({ op: 'add', kind, count: 1 });
      const added = step.mutation.assets[0];
      if (added === undefined) throw new Error('add created nothing');
      await expectCheapAndComplete(step);
      const fresh = expectedDigests([added]);
      expect(step.after.digests).toEqual(union(step.before.digests, fresh));
      expect(step.summary.assets.archived).toBe(1);
      expect(cdnRequests(step.stats)).toBe(fresh.size);
      const entry = step.after.entry(added.assetRecordName);
      expect(entry?.status).toBe('archived');
      expect(entry?.versions.map((v) => v.kind).sort()).toEqual([...kinds].sort());
      // Nothing archived before was touched.
      expect(objectEtags(step.after)).toMatchObject(objectEtags(step.before));
    });
  }
});

describe('trash, restore and purge under keep', () => {
  let trashed: TruthAssetDetail;

  it('keeps the objects of a photo moved to Recently Deleted and marks it trashed', async () => {
    trashed = await pickAsset(plainPhoto);
    const step = await h.step({ op: 'trash', assetRecordName: trashed.assetRecordName });
    await expectCheapAndComplete(step);
    expectNoObjectChange(step);
    const entry = step.after.entry(trashed.assetRecordName);
    expect(entry?.status).toBe('trashed');
    expect(entry?.flags.isDeleted).toBe(true);
    expect(entry?.versions).toEqual(step.before.entry(trashed.assetRecordName)?.versions);
    expect(entry?.deletions).toEqual([]);
  });

  it('puts a restored photo back to archived without downloading it again', async () => {
    const step = await h.step({ op: 'restore', assetRecordName: trashed.assetRecordName });
    await expectCheapAndComplete(step);
    expectNoObjectChange(step);
    expect(step.after.digests).toEqual(expectedDigests(await h.truth()));
    const entry = step.after.entry(trashed.assetRecordName);
    expect(entry?.status).toBe('archived');
    expect(entry?.flags.isDeleted).toBe(false);
  });

  it('keeps the objects of a purged photo and records the purge in the manifest', async () => {
    const purged = await pickAsset(plainPhoto);
    await h.mutate({ op: 'trash', assetRecordName: purged.assetRecordName });
    await h.sync();
    const step = await h.step({ op: 'purge', assetRecordName: purged.assetRecordName });
    await expectCheapAndComplete(step);
    expectNoObjectChange(step);
    // The library no longer has it; the archive still holds exactly its files.
    const own = expectedDigests([purged]);
    expect(step.after.digests).toEqual(union(expectedDigests(await h.truth()), own));
    const entry = step.after.entry(purged.assetRecordName);
    expect(entry?.status).toBe('purged');
    expect(entry?.versions.map((v) => v.sha256).sort()).toEqual([...own].sort());
    expect(entry?.deletions).toEqual([]);
  });
});

describe('flags', () => {
  it('records hiding and unhiding in the manifest without downloading anything', async () => {
    const asset = await pickAsset(plainPhoto);
    const hidden = await h.step({ op: 'hide', assetRecordName: asset.assetRecordName });
    await expectCheapAndComplete(hidden);
    expectNoObjectChange(hidden);
    expect(hidden.after.entry(asset.assetRecordName)?.flags.isHidden).toBe(true);
    const shown = await h.step({ op: 'unhide', assetRecordName: asset.assetRecordName });
    await expectCheapAndComplete(shown);
    expectNoObjectChange(shown);
    expect(shown.after.entry(asset.assetRecordName)?.flags.isHidden).toBe(false);
  });

  it('records favouriting and unfavouriting in the manifest without downloading anything', async () => {
    const asset = await pickAsset(plainPhoto);
    const favourite = await h.step({ op: 'favorite', assetRecordName: asset.assetRecordName });
    await expectCheapAndComplete(favourite);
    expectNoObjectChange(favourite);
    expect(favourite.after.entry(asset.assetRecordName)?.flags.isFavorite).toBe(true);
    const plain = await h.step({ op: 'unfavorite', assetRecordName: asset.assetRecordName });
    await expectCheapAndComplete(plain);
    expectNoObjectChange(plain);
    expect(plain.after.entry(asset.assetRecordName)?.flags.isFavorite).toBe(false);
  });
});

describe('edits', () => {
  let edited: TruthAssetDetail;
  const editKeys: string[] = [];

  const folderOf = (key: string) => key.slice(0, key.lastIndexOf('/'));

  it('archives an edit beside its untouched original under a new key', async () => {
    edited = await pickAsset((a) => plainPhoto(a) && a.kind === 'heic');
    const step = await h.step({ op: 'edit', assetRecordName: edited.assetRecordName });
    await expectCheapAndComplete(step);
    const rendition = step.mutation.updated[0]?.versions.find((v) => v.kind === 'adjusted');
    expect(rendition?.sha256).toBeDefined();
    expect(step.after.digests).toEqual(union(step.before.digests, [rendition?.sha256 ?? '']));
    expect(cdnRequests(step.stats)).toBe(1);
    const entry = step.after.entry(edited.assetRecordName);
    const original = entry?.versions.find((v) => v.kind === 'original');
    const edit = entry?.versions.find((v) => v.kind === 'adjusted');
    expect(original).toEqual(step.before.entry(edited.assetRecordName)?.versions[0]);
    expect(edit?.key).not.toBe(original?.key);
    expect(folderOf(edit?.key ?? '')).toBe(folderOf(original?.key ?? ''));
    expect(objectEtags(step.after)).toMatchObject(objectEtags(step.before));
    editKeys.push(edit?.key ?? '');
  });

  it('archives a second edit under another new key and keeps the first', async () => {
    const step = await h.step({ op: 'edit', assetRecordName: edited.assetRecordName });
    await expectCheapAndComplete(step);
    expect(cdnRequests(step.stats)).toBe(1);
    const edits =
      step.after.entry(edited.assetRecordName)?.versions.filter((v) => v.kind === 'adjusted') ?? [];
    expect(edits).toHaveLength(2);
    const second = edits.find((v) => !editKeys.includes(v.key));
    expect(second).toBeDefined();
    expect(step.after.object(editKeys[0] ?? '')).toBeDefined();
    expect(objectEtags(step.after)).toMatchObject(objectEtags(step.before));
  });

  it('keeps the original and the archived edits when the edit is reverted, downloading nothing', async () => {
    const step = await h.step({ op: 'revert-edit', assetRecordName: edited.assetRecordName });
    await expectCheapAndComplete(step);
    expectNoObjectChange(step);
    const entry = step.after.entry(edited.assetRecordName);
    expect(entry?.status).toBe('archived');
    // The same objects; the edits, no longer iCloud's, are marked so (album views skip them).
    expect(entry?.versions).toEqual(
      step.before
        .entry(edited.assetRecordName)
        ?.versions.map((v) =>
          v.kind === 'adjusted' || v.kind === 'liveAdjusted' ? { ...v, current: false } : v,
        ),
    );
  });
});

describe('albums', () => {
  it('records joining and leaving an album in the manifest without downloading anything', async () => {
    const asset = await pickAsset((a) => plainPhoto(a) && a.albumRecordNames.length === 0);
    const joined = await h.step({
      op: 'album-add',
      assetRecordName: asset.assetRecordName,
      album: 'Holidays 2019',
    });
    await expectCheapAndComplete(joined);
    expectNoObjectChange(joined);
    const album = (await h.truth()).find((a) => a.assetRecordName === asset.assetRecordName)
      ?.albumRecordNames[0];
    expect(album).toBeDefined();
    expect(joined.after.entry(asset.assetRecordName)?.albums).toEqual([album]);

    const left = await h.step({
      op: 'album-remove',
      assetRecordName: asset.assetRecordName,
      album: 'Holidays 2019',
    });
    await expectCheapAndComplete(left);
    expectNoObjectChange(left);
    expect(left.after.entry(asset.assetRecordName)?.albums).toEqual([]);
  });
});

describe('duplicates', () => {
  it('archives an iOS duplicate as a second manifest entry over the same objects', async () => {
    const asset = await pickAsset(plainPhoto);
    const step = await h.step({ op: 'duplicate', assetRecordName: asset.assetRecordName });
    const copy = step.mutation.assets[0];
    if (copy === undefined) throw new Error('duplicate created nothing');
    expect(copy.masterRecordName).toBe(asset.masterRecordName);
    await expectCheapAndComplete(step);
    expectNoObjectChange(step);
    const keysOf = (name: string) => step.after.entry(name)?.versions.map((v) => v.key);
    expect(step.after.entry(copy.assetRecordName)?.status).toBeDefined();
    expect(keysOf(copy.assetRecordName)).toEqual(keysOf(asset.assetRecordName));
  });

  it('archives the edits of three duplicates of one photo, each edited differently', async () => {
    const asset = await pickAsset(plainPhoto);
    const copies = [];
    for (let i = 0; i < 2; i++) {
      const copy = (await h.mutate({ op: 'duplicate', assetRecordName: asset.assetRecordName })).assets[0];
      if (copy === undefined) throw new Error('duplicate created nothing');
      copies.push(copy.assetRecordName);
    }
    const [last, ...others] = [...copies, asset.assetRecordName];
    for (const name of others) await h.mutate({ op: 'edit', assetRecordName: name });
    const step = await h.step({ op: 'edit', assetRecordName: last });
    await expectCheapAndComplete(step);
    const edits = [asset.assetRecordName, ...copies].map(
      (name) => step.after.entry(name)?.versions.find((v) => v.kind === 'adjusted')?.key,
    );
    expect(new Set(edits).size).toBe(3);
    expect(edits).not.toContain(undefined);
  });
});
