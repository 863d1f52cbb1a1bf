/**
 * A sync while every records answer names a download URL outside Apple's CDN (the simulator's
 * `hostileDownloadUrl` quirk) archives nothing and fetches nothing from that host; once Apple
 * serves its own URLs again, the next ordinary sync archives every photo with no person involved
 * (the refused work is retried: SQS redelivery, the dead-letter queue, the redrive pass), and the
 * sync after that is idle at one request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';

let h: PipelineHarness;

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 4, seed: 83 });
});

afterAll(async () => {
  await h?.stop();
});

describe('downloads refused as not Apple’s', () => {
  it('are archived by the next sync once Apple serves its own URLs, and the sync after is idle', async () => {
    await h.control.quirks({ hostileDownloadUrl: 'http://127.0.0.1:9/secret.txt' });
    const refused = await h.sync();
    expect(refused.versionsArchived).toBe(0);
    expect((await h.snapshot()).objects).toHaveLength(0);

    await h.control.quirks({ hostileDownloadUrl: null });
    await h.sync();

    const wanted = (await h.truth()).filter((a) => a.trashReason === undefined && a.versions.length > 0);
    const after = await h.snapshot();
    for (const photo of wanted) expect(after.entry(photo.assetRecordName)?.status).toBe('archived');
    const quiet = await h.measuredSync();
    expect(quiet.summary.outcome).toBe('idle');
    expect(quiet.summary.appleRequestsTotal).toBe(1);
  });
});
