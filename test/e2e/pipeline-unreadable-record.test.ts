/**
 * A record CloudKit serves as an inline error item (`{recordName, serverErrorCode, reason}` in
 * place of the record, docs/protocol/cloudkit.md) during detection is not lost: the zone's token
 * still moves on (one unreadable record must not hold up the zone), but the name is kept with the
 * zone and looked up again on the next runs, so the photo is archived once CloudKit serves it.
 * Found by the fault matrix (`quirk:inlineErrors`, docs/reliability.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';

let h: PipelineHarness;

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 8, seed: 61 });
});

afterAll(async () => {
  await h?.stop();
});

describe('a record CloudKit answers as an inline error during detection', () => {
  it('is archived by a later run once CloudKit serves it, and the run after that is idle', async () => {
    const photo = (await h.truth()).find(
      (a) => a.zone === 'PrimarySync' && a.trashReason === undefined && a.versions.length > 0,
    );
    expect(photo).toBeDefined();
    const name = photo!.assetRecordName;
    await h.control.quirks({ inlineErrors: [name] });
    const first = await h.sync();
    expect(first.outcome).not.toBe('reauthRequired');
    expect((await h.snapshot()).entry(name)?.status).not.toBe('archived');
    // Still unreadable on the next run: kept, not dropped.
    await h.sync();
    expect((await h.snapshot()).entry(name)?.status).not.toBe('archived');

    await h.control.quirks({ inlineErrors: [] });
    const healed = await h.sync();

    const after = await h.snapshot();
    expect(after.entry(name)?.status).toBe('archived');
    expect(after.entry(name)?.versions.length).toBeGreaterThan(0);
    expect(healed.assets.archived).toBeGreaterThanOrEqual(1);
    const quiet = await h.measuredSync();
    expect(quiet.summary.outcome).toBe('idle');
    expect(quiet.summary.appleRequestsTotal).toBe(1);
  });
});
