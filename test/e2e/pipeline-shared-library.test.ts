/**
 * The iCloud Shared Library end to end (docs/protocol/records.md#shared-library, docs/protocol/records.md#cross-zone-identity): your photos that are in both your
 * PrimarySync and the Shared Library are stored once (same master: one object, an entry per
 * asset), members' photos are archived, and moves between the libraries and deletions by
 * members change the manifest, never the archived bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedDigests } from '#test/helpers/local-archive.ts';
import {
  type ArchiveSnapshot,
  cdnRequests,
  detectionRequests,
  objectEtags,
  type PipelineHarness,
  startPipelineHarness,
  type TruthAssetDetail,
  union,
} from '#test/helpers/pipeline-harness.ts';

let h: PipelineHarness;
let ownerUser: string;
let first: Awaited<ReturnType<PipelineHarness['sync']>>;

const inShared = (a: TruthAssetDetail) => a.zone.startsWith('SharedSync');
const keysOf = (snapshot: ArchiveSnapshot, name: string) =>
  snapshot.entry(name)?.versions.map((v) => v.key) ?? [];

/** Every binary is stored once: no two objects hold the same bytes. */
function expectEachBinaryOnce(snapshot: ArchiveSnapshot): void {
  const digests = snapshot.objects.map((o) => o.metadata['icloud-sha256']);
  expect(digests.length).toBe(new Set(digests).size);
}

/** A live Shared Library asset of `who` with no twin in PrimarySync. */
async function memberPhoto(predicate: (a: TruthAssetDetail) => boolean): Promise<TruthAssetDetail> {
  const truth = await h.truth();
  const found = truth.find(
    (a) => inShared(a) && !a.isDeleted && !(a.contributors ?? []).includes(ownerUser) && predicate(a),
  );
  if (found === undefined) throw new Error('no such member photo in the Shared Library');
  return found;
}

beforeAll(async () => {
  // The curated slots 21-25 hold the Shared Library cases: member photos, a member Live Photo,
  // one of yours in both libraries, one a member deleted.
  h = await startPipelineHarness({ assets: 26, seed: 41 });
  const own = (await h.mutate({ op: 'add', kind: 'photo', count: 1, zone: 'shared' })).assets;
  ownerUser = own.find(inShared)?.contributors?.[0] ?? '';
  expect(ownerUser).not.toBe('');
  // Many workers at once: the two assets of a shared master are likely to meet mid-download.
  first = await h.sync({ concurrency: 8 });
  expect(first.outcome).toBe('succeeded');
});

afterAll(async () => {
  await h?.stop();
});

describe('the Shared Library', () => {
  it('downloads and counts each object of a master in both libraries once, with eight workers', async () => {
    const snapshot = await h.snapshot();
    const bytes = snapshot.objects.reduce((sum, o) => sum + o.size, 0);
    expect(first.versionsArchived).toBe(snapshot.objects.length);
    expect(first.bytesArchived).toBe(bytes);
    expect(snapshot.counters).toEqual({ objects: snapshot.objects.length, bytes });
  });

  it('archives your photo that is in both libraries once, with an entry for each asset', async () => {
    const truth = await h.truth();
    const snapshot = await h.snapshot();
    expect(snapshot.digests).toEqual(expectedDigests(truth));
    expectEachBinaryOnce(snapshot);
    const twins = truth.filter(
      (s) =>
        inShared(s) &&
        !s.isDeleted &&
        truth.some((p) => p.zone === 'PrimarySync' && p.masterRecordName === s.masterRecordName),
    );
    expect(twins.length).toBeGreaterThanOrEqual(2);
    for (const shared of twins) {
      const personal = truth.find(
        (p) => p.zone === 'PrimarySync' && p.masterRecordName === shared.masterRecordName,
      );
      const keys = keysOf(snapshot, shared.assetRecordName);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys).toEqual(keysOf(snapshot, personal?.assetRecordName ?? ''));
    }
  });

  it("archives a member's photos and Live Photos in the Shared Library", async () => {
    const snapshot = await h.snapshot();
    const members = (await h.truth()).filter(
      (a) => inShared(a) && !a.isDeleted && !(a.contributors ?? []).includes(ownerUser),
    );
    expect(members.map((a) => a.kind)).toContain('live');
    for (const asset of members) {
      expect(snapshot.entry(asset.assetRecordName)?.status).toBe('archived');
      for (const digest of expectedDigests([asset])) expect(snapshot.digests).toContain(digest);
    }
  });

  it('archives a photo a member adds to the Shared Library with two detection requests', async () => {
    const step = await h.step({ op: 'add', kind: 'photo', count: 1, zone: 'shared', contributor: 'member' });
    const added = step.mutation.assets[0];
    if (added === undefined) throw new Error('add created nothing');
    expect(step.summary.outcome).toBe('succeeded');
    expect(detectionRequests(step.stats)).toBeLessThanOrEqual(2);
    expect(cdnRequests(step.stats)).toBe(1);
    expect(step.after.entry(added.assetRecordName)?.status).toBe('archived');
    expect(step.after.digests).toEqual(union(step.before.digests, expectedDigests([added])));
  });

  it('adds an entry over the same objects when you share a personal photo, downloading nothing', async () => {
    const personal = (await h.truth()).find(
      (a) => a.zone === 'PrimarySync' && a.kind === 'jpeg' && !a.isDeleted && !a.isHidden,
    );
    if (personal === undefined) throw new Error('no personal photo');
    const step = await h.step({ op: 'share', assetRecordName: personal.assetRecordName });
    const shared = step.mutation.assets[0];
    if (shared === undefined) throw new Error('share created nothing');
    expect(step.summary.outcome).toBe('succeeded');
    // Both zones changed: one changes/database and one changes/zone per zone.
    expect(detectionRequests(step.stats)).toBeLessThanOrEqual(3);
    expect(cdnRequests(step.stats)).toBe(0);
    expect(objectEtags(step.after)).toEqual(objectEtags(step.before));
    expect(keysOf(step.after, shared.assetRecordName)).toEqual(keysOf(step.after, personal.assetRecordName));
    expect(step.after.entry(shared.assetRecordName)?.status).toBe('archived');
  });

  it('marks the Shared Library copy trashed and keeps the personal one when you move a photo back to Personal', async () => {
    const twin = (await h.truth()).find(
      (a) => inShared(a) && !a.isDeleted && (a.contributors ?? []).includes(ownerUser),
    );
    if (twin === undefined) throw new Error('no shared photo of yours');
    const step = await h.step({ op: 'move-to-personal', assetRecordName: twin.assetRecordName });
    expect(step.summary.outcome).toBe('succeeded');
    expect(cdnRequests(step.stats)).toBe(0);
    expect(objectEtags(step.after)).toEqual(objectEtags(step.before));
    const sharedEntry = step.after.entry(twin.assetRecordName);
    expect(sharedEntry?.status).toBe('trashed');
    expect(sharedEntry?.flags.isDeleted).toBe(true);
    const personal = (await h.truth()).find(
      (a) => a.zone === 'PrimarySync' && a.masterRecordName === twin.masterRecordName && !a.isDeleted,
    );
    expect(personal).toBeDefined();
    expect(step.after.entry(personal?.assetRecordName ?? '')?.status).toBe('archived');
    expect(keysOf(step.after, personal?.assetRecordName ?? '')).toEqual(
      keysOf(step.before, twin.assetRecordName),
    );
  });

  it("keeps a member's photo they moved to their personal library, marked trashed", async () => {
    const photo = await memberPhoto((a) => a.kind === 'jpeg');
    const step = await h.step({
      op: 'move-to-personal',
      assetRecordName: photo.assetRecordName,
      by: 'member',
    });
    expect(step.summary.outcome).toBe('succeeded');
    expect(detectionRequests(step.stats)).toBeLessThanOrEqual(2);
    expect(cdnRequests(step.stats)).toBe(0);
    expect(objectEtags(step.after)).toEqual(objectEtags(step.before));
    expect(step.after.entry(photo.assetRecordName)?.status).toBe('trashed');
  });

  it('keeps a photo a member deleted from the Shared Library, marked trashed', async () => {
    const photo = await memberPhoto(() => true);
    const step = await h.step({ op: 'shared-delete', assetRecordName: photo.assetRecordName, by: 'member' });
    expect(step.summary.outcome).toBe('succeeded');
    expect(detectionRequests(step.stats)).toBeLessThanOrEqual(2);
    expect(cdnRequests(step.stats)).toBe(0);
    expect(objectEtags(step.after)).toEqual(objectEtags(step.before));
    const entry = step.after.entry(photo.assetRecordName);
    expect(entry?.status).toBe('trashed');
    expect(entry?.flags.isDeleted).toBe(true);
    expect(step.after.digests).toEqual(union(expectedDigests(await h.truth()), step.before.digests));
  });

  it('keeps the objects your personal copy uses when mirror sees the Shared Library copy purged', async () => {
    const moved = (await h.truth()).find(
      (a) => inShared(a) && a.isDeleted && (a.contributors ?? []).includes(ownerUser) && a.trashReason === 0,
    );
    if (moved === undefined) throw new Error('no photo of yours moved back to Personal');
    const before = await h.snapshot();
    const keys = keysOf(before, moved.assetRecordName);
    const step = await h.step(
      { op: 'purge', assetRecordName: moved.assetRecordName },
      { deletePolicy: { mode: 'mirror', maxDeleteFraction: 0.5, maxDeleteCount: 1000 } },
    );
    expect(step.summary.outcome).toBe('succeeded');
    expect(step.after.entry(moved.assetRecordName)?.status).toBe('purged');
    for (const key of keys) expect(step.after.object(key)).toBeDefined();
    expect(objectEtags(step.after)).toEqual(objectEtags(step.before));
  });
});
