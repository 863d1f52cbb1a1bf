/**
 * The `mirror` delete policy end to end: what it removes (a purged photo's objects), what it
 * never removes (a trashed photo's, a master another entry still uses), and the safety stop that
 * refuses a run deleting too much of the archive, keeps its place, and lets a raised limit through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { expectedDigests } from '#test/helpers/local-archive.ts';
import {
  cdnRequests,
  detectionRequests,
  objectEtags,
  type PipelineHarness,
  startPipelineHarness,
  type TruthAssetDetail,
} from '#test/helpers/pipeline-harness.ts';

const mirror = (maxDeleteFraction: number): DeletePolicy => ({
  mode: 'mirror',
  maxDeleteFraction,
  maxDeleteCount: 1000,
});
/** Lets one photo (its asset and master tombstones) through on this small archive, not five. */
const STRICT = mirror(0.1);

let h: PipelineHarness;
/** Plain photos added for these tests, handed out one by one. */
let spare: TruthAssetDetail[];
const take = (): TruthAssetDetail => {
  const next = spare.shift();
  if (next === undefined) throw new Error('no spare photo left');
  return next;
};
const keysOf = (
  h: { entry(name: string): { versions: readonly { key: string }[] } | undefined },
  name: string,
) => h.entry(name)?.versions.map((v) => v.key) ?? [];

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 16, seed: 31 });
  spare = [...(await h.mutate({ op: 'add', kind: 'photo', count: 10 })).assets];
  const first = await h.sync({ deletePolicy: STRICT });
  expect(first.outcome).toBe('succeeded');
});

afterAll(async () => {
  await h?.stop();
});

describe('mirror', () => {
  it('keeps the objects of a photo in Recently Deleted', async () => {
    const photo = take();
    const step = await h.step(
      { op: 'trash', assetRecordName: photo.assetRecordName },
      { deletePolicy: STRICT },
    );
    expect(step.summary.outcome).toBe('succeeded');
    expect(objectEtags(step.after)).toEqual(objectEtags(step.before));
    expect(step.after.entry(photo.assetRecordName)?.status).toBe('trashed');

    const purge = await h.step(
      { op: 'purge', assetRecordName: photo.assetRecordName },
      { deletePolicy: STRICT },
    );
    expect(purge.summary.outcome).toBe('succeeded');
  });

  it('removes the objects of a purged photo and records their deletion', async () => {
    const photo = take();
    const before = await h.snapshot();
    const keys = keysOf(before, photo.assetRecordName);
    expect(keys.length).toBeGreaterThan(0);
    const step = await h.step(
      { op: 'purge', assetRecordName: photo.assetRecordName },
      { deletePolicy: STRICT },
    );
    expect(step.summary.outcome).toBe('succeeded');
    expect(detectionRequests(step.stats)).toBeLessThanOrEqual(2);
    expect(cdnRequests(step.stats)).toBe(0);
    for (const key of keys) expect(step.after.object(key)).toBeUndefined();
    expect(step.after.digests).toEqual(expectedDigests(await h.truth()));
    const entry = step.after.entry(photo.assetRecordName);
    expect(entry?.status).toBe('purged');
    expect(entry?.deletions.map((d) => d.key).sort()).toEqual([...keys].sort());
    expect(step.after.counters.objects).toBe(step.before.counters.objects - keys.length);
  });

  it('keeps the objects of a master while another entry (an iOS duplicate) still uses them', async () => {
    const photo = take();
    const copy = (await h.mutate({ op: 'duplicate', assetRecordName: photo.assetRecordName })).assets[0];
    if (copy === undefined) throw new Error('duplicate created nothing');
    await h.sync({ deletePolicy: STRICT });
    const keys = keysOf(await h.snapshot(), photo.assetRecordName);

    const first = await h.step(
      { op: 'purge', assetRecordName: photo.assetRecordName },
      { deletePolicy: STRICT },
    );
    expect(first.summary.outcome).toBe('succeeded');
    for (const key of keys) expect(first.after.object(key)).toBeDefined();
    expect(first.after.digests).toEqual(expectedDigests(await h.truth()));

    const last = await h.step(
      { op: 'purge', assetRecordName: copy.assetRecordName },
      { deletePolicy: STRICT },
    );
    expect(last.summary.outcome).toBe('succeeded');
    for (const key of keys) expect(last.after.object(key)).toBeUndefined();
    expect(last.after.digests).toEqual(expectedDigests(await h.truth()));
  });
});

describe('the mass-deletion safety stop', () => {
  let victims: TruthAssetDetail[];
  let tokensBefore: (string | undefined)[];
  let etagsBefore: Record<string, string>;

  it('deletes nothing and reports the refusal when a run would purge more than the allowed share', async () => {
    victims = [take(), take(), take(), take(), take()];
    for (const victim of victims) await h.mutate({ op: 'purge', assetRecordName: victim.assetRecordName });
    const before = await h.snapshot();
    tokensBefore = before.zones.map((z) => z.syncToken);
    etagsBefore = objectEtags(before);

    const { summary } = await h.measuredSync({ deletePolicy: STRICT });
    expect(summary.outcome).toBe('deletionRefused');
    expect(summary.deletionRefused?.wouldDelete).toBeGreaterThan(summary.deletionRefused?.limit ?? 0);
    expect(summary.deletionRefused?.archiveObjects).toBe(before.counters.objects);
    expect(summary.message).toMatch(/nothing was deleted/);

    const after = await h.snapshot();
    expect(objectEtags(after)).toEqual(etagsBefore);
    for (const victim of victims) expect(after.entry(victim.assetRecordName)?.status).toBe('archived');
    expect(after.zones.map((z) => z.syncToken)).toEqual(tokensBefore);
  });

  it('meets the same stop on the next run, still deleting nothing', async () => {
    const { summary } = await h.measuredSync({ deletePolicy: STRICT });
    expect(summary.outcome).toBe('deletionRefused');
    const after = await h.snapshot();
    expect(objectEtags(after)).toEqual(etagsBefore);
    expect(after.zones.map((z) => z.syncToken)).toEqual(tokensBefore);
  });

  it('carries out the purges once the limit is raised', async () => {
    const { summary } = await h.measuredSync({ deletePolicy: mirror(0.9) });
    expect(summary.outcome).toBe('succeeded');
    const after = await h.snapshot();
    for (const victim of victims) {
      const entry = after.entry(victim.assetRecordName);
      expect(entry?.status).toBe('purged');
      for (const deletion of entry?.deletions ?? []) expect(after.object(deletion.key)).toBeUndefined();
    }
    expect(after.digests).toEqual(expectedDigests(await h.truth()));
  });
});
