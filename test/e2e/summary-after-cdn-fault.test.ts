/**
 * Issue 11, item 6, end to end: two new photos and one CDN fault. The work message fails once
 * (the fault), SQS redelivers it, and the summary must still say what happened: both photos
 * archived, none skipped, each file and byte counted once, and the archive totals exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdnRequests, type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';

let h: PipelineHarness;

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 4, seed: 61 });
  const first = await h.sync();
  expect(first.outcome).toBe('succeeded');
});

afterAll(async () => {
  await h?.stop();
});

describe('the sync summary after a CDN fault', () => {
  it('counts two new photos as archived when one download failed once and the message was retried', async () => {
    const before = await h.snapshot();
    await h.mutate({ op: 'add', kind: 'photo', count: 2 });
    await h.control.injectFault({ endpoint: 'cdn', status: 500, count: 1 });

    const { summary, stats } = await h.measuredSync();
    const after = await h.snapshot();

    expect(summary.outcome).toBe('succeeded');
    expect(summary.assets).toMatchObject({ archived: 2, skipped: 0, failed: 0, deleted: 0 });
    const added = after.objects.filter((o) => before.object(o.key) === undefined);
    expect(added.length).toBeGreaterThanOrEqual(2);
    // The fault cost one download: the message really was delivered twice.
    expect(cdnRequests(stats)).toBe(added.length + 1);
    expect(summary.versionsArchived).toBe(added.length);
    expect(summary.bytesArchived).toBe(added.reduce((sum, o) => sum + o.size, 0));
    const totalBytes = after.objects.reduce((sum, o) => sum + o.size, 0);
    expect(after.counters).toEqual({ objects: after.objects.length, bytes: totalBytes });
  });
});
