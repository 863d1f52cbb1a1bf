/**
 * The less common paths of a library change, end to end: assets the archive met late or never
 * (trashed before the first sync, archived as trashed, then restored; added straight into Hidden), a Live Photo's
 * edit (still and motion), an edit after a revert, and a purge of something never archived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedDigests } from '#test/helpers/local-archive.ts';
import {
  cdnRequests,
  detectionRequests,
  objectEtags,
  type PipelineHarness,
  startPipelineHarness,
  type TruthAssetDetail,
  union,
} from '#test/helpers/pipeline-harness.ts';

let h: PipelineHarness;

beforeAll(async () => {
  // 21 generated assets: slot 20 is a photo already in Recently Deleted.
  h = await startPipelineHarness({ assets: 21, seed: 61 });
  const first = await h.sync();
  expect(first.outcome).toBe('succeeded');
});

afterAll(async () => {
  await h?.stop();
});

describe('assets the archive has not seen yet', () => {
  let trashedEarlier: TruthAssetDetail;

  it('archives a photo that was in Recently Deleted before the first sync, as trashed', async () => {
    const found = (await h.truth()).find((a) => a.zone === 'PrimarySync' && a.isDeleted);
    if (found === undefined) throw new Error('the generated library has no trashed photo');
    trashedEarlier = found;
    const snapshot = await h.snapshot();
    expect(snapshot.entry(trashedEarlier.assetRecordName)?.status).toBe('trashed');
    for (const digest of expectedDigests([trashedEarlier])) expect(snapshot.digests).toContain(digest);
  });

  it('restores that photo without downloading it again', async () => {
    const step = await h.step({ op: 'restore', assetRecordName: trashedEarlier.assetRecordName });
    expect(step.summary.outcome).toBe('succeeded');
    expect(detectionRequests(step.stats)).toBeLessThanOrEqual(2);
    expect(cdnRequests(step.stats)).toBe(0);
    expect(step.after.entry(trashedEarlier.assetRecordName)?.status).toBe('archived');
    expect(step.after.digests).toEqual(step.before.digests);
    expect(step.after.digests).toEqual(expectedDigests(await h.truth()));
  });

  it('archives a photo added straight into Hidden, flagged hidden', async () => {
    const step = await h.step({ op: 'add', kind: 'photo', count: 1, hidden: true });
    const added = step.mutation.assets[0];
    if (added === undefined) throw new Error('add created nothing');
    expect(step.summary.outcome).toBe('succeeded');
    expect(cdnRequests(step.stats)).toBe(1);
    const entry = step.after.entry(added.assetRecordName);
    expect(entry?.status).toBe('archived');
    expect(entry?.flags.isHidden).toBe(true);
    expect(step.after.digests).toEqual(expectedDigests(await h.truth()));
  });

  it('records a purge of a photo it never archived without archiving or failing anything', async () => {
    const added = (await h.mutate({ op: 'add', kind: 'photo', count: 1 })).assets[0];
    if (added === undefined) throw new Error('add created nothing');
    await h.mutate({ op: 'trash', assetRecordName: added.assetRecordName });
    const step = await h.step({ op: 'purge', assetRecordName: added.assetRecordName });
    expect(step.summary.outcome).toBe('succeeded');
    expect(step.summary.assets.failed).toBe(0);
    expect(cdnRequests(step.stats)).toBe(0);
    expect(objectEtags(step.after)).toEqual(objectEtags(step.before));
    expect(step.after.digests).toEqual(expectedDigests(await h.truth()));
  });
});

describe('edits of a Live Photo', () => {
  let live: TruthAssetDetail;

  it('archives the edited still and the edited motion beside the untouched originals', async () => {
    const added = (await h.mutate({ op: 'add', kind: 'live', count: 1 })).assets[0];
    if (added === undefined) throw new Error('add created nothing');
    live = added;
    await h.sync();
    const step = await h.step({ op: 'edit', assetRecordName: live.assetRecordName });
    expect(step.summary.outcome).toBe('succeeded');
    const renditions = expectedDigests(step.mutation.updated);
    const fresh = [...renditions].filter((d) => !step.before.digests.has(d));
    expect(fresh.length).toBe(2);
    expect(cdnRequests(step.stats)).toBe(2);
    expect(step.after.digests).toEqual(union(step.before.digests, fresh));
    const kinds = step.after
      .entry(live.assetRecordName)
      ?.versions.map((v) => v.kind)
      .sort();
    expect(kinds).toEqual(['adjusted', 'live', 'liveAdjusted', 'original']);
    expect(objectEtags(step.after)).toMatchObject(objectEtags(step.before));
  });

  it('archives an edit made after a revert only where its renditions are new, keeping the earlier edit', async () => {
    await h.mutate({ op: 'revert-edit', assetRecordName: live.assetRecordName });
    await h.sync();
    const step = await h.step({ op: 'edit', assetRecordName: live.assetRecordName });
    expect(step.summary.outcome).toBe('succeeded');
    const fresh = [...expectedDigests(step.mutation.updated)].filter((d) => !step.before.digests.has(d));
    expect(cdnRequests(step.stats)).toBe(fresh.length);
    expect(step.after.digests).toEqual(union(step.before.digests, fresh));
    expect(objectEtags(step.after)).toMatchObject(objectEtags(step.before));
    const versions = step.after.entry(live.assetRecordName)?.versions ?? [];
    expect(new Set(versions.map((v) => v.key)).size).toBe(versions.length);
    expect(new Set(versions.map((v) => v.sha256)).size).toBe(versions.length);
  });
});
