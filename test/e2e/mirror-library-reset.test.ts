/**
 * A library reset under `mirror` (reliability finding "the mirror stop counted objects another
 * live photo keeps"): iCloud Photos turned off and on again, every photo re-uploaded as a new
 * CPLAsset over the same CPLMaster. Played in the simulator as: each live photo of the owner's
 * PrimarySync duplicated (same master, new asset record), then its old asset purged (the master
 * stays: the new asset uses it). Once with the zone's token kept (a delta), once refused (a
 * recreated zone: a fresh walk that reconciles).
 *
 * The safety stop counts only the objects the workers would delete: the run goes through, no
 * original is deleted, nothing is downloaded again, and the summary tells the objects deleted
 * apart from the photos purged. (The simulator's duplicate carries no edit, so the old assets'
 * edited renditions are really gone from iCloud here: those deletions are mirror's due.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { cdnRequests, type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';

const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 1000 };

describe.each([
  ['delta (token kept)', false],
  ['token refused (zone recreated)', true],
] as const)('library reset under mirror: %s', (_label, expireToken) => {
  let h: PipelineHarness;
  beforeAll(async () => {
    h = await startPipelineHarness({ assets: 30, seed: expireToken ? 164 : 163 });
    expect((await h.sync({ deletePolicy: MIRROR })).outcome).toBe('succeeded');
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('re-uploaded photos over the same masters: no stop, no original deleted, nothing downloaded again', async () => {
    const before = await h.snapshot();
    const live = (await h.truth()).filter(
      (t) => t.zone === 'PrimarySync' && t.zoneOwner === 'owner' && !t.isDeleted,
    );
    for (const t of live) await h.mutate({ op: 'duplicate', assetRecordName: t.assetRecordName });
    for (const t of live) await h.mutate({ op: 'purge', assetRecordName: t.assetRecordName });
    if (expireToken) {
      const zone = before.zones.find((z) => z.zone.zoneName === 'PrimarySync');
      await h.control.quirks({ expiredTokens: [zone?.syncToken ?? ''] });
    }
    const { summary, stats } = await h.measuredSync({ deletePolicy: MIRROR });
    const after = await h.snapshot();
    const deleted = before.objects.map((o) => o.key).filter((k) => after.object(k) === undefined);
    expect(summary.outcome, 'the reset went through').toBe('succeeded');
    expect(
      deleted.filter((key) => !key.includes('-edited.')),
      'originals deleted',
    ).toEqual([]);
    expect(cdnRequests(stats), 'downloads of photos already archived').toBe(0);
    // What is true: photos purged in iCloud, and the few objects that went with them.
    expect(summary.assets.deleted).toBe(live.length);
    expect(summary.assets.objectsDeleted ?? 0).toBe(deleted.length);
    // Every archived photo is still there under its new asset.
    const archived = after.entries.filter((e) => e.status === 'archived');
    expect(archived.length).toBeGreaterThanOrEqual(live.length);
  }, 300_000);

  it('the next run, with a new photo, goes through too', async () => {
    const [fresh] = (await h.mutate({ op: 'add', kind: 'photo', count: 1 })).assets;
    const again = await h.sync({ deletePolicy: MIRROR });
    expect(again.outcome).toBe('succeeded');
    expect((await h.snapshot()).entry(fresh?.assetRecordName ?? '')?.status).toBe('archived');
  }, 300_000);
});
