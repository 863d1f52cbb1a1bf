/**
 * The download worker's live progress (the local CLI's progress line and its Ctrl-C line): each
 * item is counted as soon as its manifest entry is written (with its message's others, or after
 * waiting ENTRY_BATCH_WAIT_MS for them), not when its whole message is done,
 * and once only: what the items told adds up, delivery by delivery, to the messages' results.
 */

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { ItemProgress } from '#app/download-batch.ts';
import { ENTRY_BATCH_WAIT_MS } from '#domain/archive/entry-batch.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import { RateLimitedError } from '#domain/errors.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import {
  fakeIcloud,
  jpegBytes,
  lambdaContext,
  photoAsset,
  RecordingLogger,
  ScriptedCdn,
  sqsEvent,
  sqsRecord,
  workBody,
  ZONE,
} from './handler-doubles.ts';

const NOW = 1_750_000_000_000;

function setUp() {
  const clock = { now: NOW };
  const state = new InMemorySyncStateStore({ now: () => clock.now });
  const objects = new InMemoryObjectStore({ now: () => clock.now, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const icloud = fakeIcloud(cdn);
  /** What the items told, summed as the local runtime sums it, and every sum it went through. */
  const live = { items: 0, bytesArchived: 0 };
  const seen: { items: number; bytesArchived: number }[] = [];
  const results: MessageResult[] = [];
  const handler = createDownloadHandler({
    decode: parseWorkMessage,
    archive: {
      state,
      objects,
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => clock.now,
    },
    icloud: async () => icloud.adapters,
    logger: new RecordingLogger(),
    metrics: new CollectedMetrics(),
    reserveMs: 1_000,
    onMessage: (result) => results.push(result),
    onItemProgress: (change: ItemProgress) => {
      live.items += change.items;
      live.bytesArchived += change.bytesArchived;
      seen.push({ ...live });
    },
  });
  const reported = () =>
    results.reduce(
      (sum, r) => ({ items: sum.items + r.items, bytesArchived: sum.bytesArchived + r.bytesArchived }),
      { items: 0, bytesArchived: 0 },
    );
  return { clock, state, cdn, handler, live, seen, results, reported };
}

const plenty = () => lambdaContext(() => 60_000);

/** Waits (real time: an entry waits up to ENTRY_BATCH_WAIT_MS for its message's others) for `condition`. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 4 * ENTRY_BATCH_WAIT_MS;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('live progress of the download worker', () => {
  it('counts an item once its entry is written, while another item of its message still downloads', async () => {
    const { cdn, handler, live, results, reported, state } = setUp();
    cdn.files.set('https://cdn.test/quick', jpegBytes(64, 1));
    let held: PassThrough | undefined;
    cdn.files.set('https://cdn.test/held', () => {
      held = new PassThrough();
      return held;
    });
    const record = sqsRecord(
      workBody(
        [
          { type: 'asset', asset: photoAsset('quick', 64) },
          { type: 'asset', asset: photoAsset('held', 64) },
        ],
        NOW,
      ),
    );

    const response = handler(sqsEvent([record]), plenty());
    await until(() => live.items === 1 && held !== undefined);

    // The message is not done (its second photo is still downloading), yet its first is counted.
    expect(live).toEqual({ items: 1, bytesArchived: 64 });
    expect(results).toEqual([]);
    expect(await state.getEntry({ zone: ZONE, assetRecordName: 'asset-quick' })).toMatchObject({
      status: 'archived',
    });

    held?.end(jpegBytes(64, 2));
    expect((await response).batchItemFailures).toEqual([]);
    expect(results).toHaveLength(1);
    expect(live).toEqual(reported());
    expect(live).toEqual({ items: 2, bytesArchived: 128 });
  });

  it('counts each item once across a delivery that must be retried and its redelivery', async () => {
    const { clock, cdn, handler, live, seen, reported } = setUp();
    // An earlier run archived `kept`: this message finds it unchanged (it counts, as skipped).
    cdn.files.set('https://cdn.test/kept', jpegBytes(64, 3));
    clock.now = NOW - 60_000;
    await handler(
      sqsEvent([sqsRecord(workBody([{ type: 'asset', asset: photoAsset('kept', 64) }], clock.now))]),
      plenty(),
    );
    const before = { ...live };
    clock.now = NOW;

    cdn.files.set('https://cdn.test/fine', jpegBytes(64, 4));
    cdn.files.set('https://cdn.test/limited', () => new RateLimitedError('429', { retryAfterSeconds: 5 }));
    const record = sqsRecord(
      workBody(
        [
          { type: 'asset', asset: photoAsset('fine', 64) },
          { type: 'asset', asset: photoAsset('limited', 64) },
          { type: 'asset', asset: photoAsset('kept', 64) },
        ],
        NOW,
      ),
    );

    const first = await handler(sqsEvent([record]), plenty());
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    // Both were told as they were done; the delivery's end took `kept` back.
    expect(seen.map((s) => s.items)).toContain(before.items + 2);
    // `fine` is archived and stays counted; `kept` is left to the redelivery, which finds it
    // unchanged again and counts it then.
    expect(live).toEqual({ items: before.items + 1, bytesArchived: before.bytesArchived + 64 });
    expect(live).toEqual(reported());

    cdn.files.set('https://cdn.test/limited', jpegBytes(64, 5));
    const second = await handler(sqsEvent([{ ...record, receiptHandle: 'again' }]), plenty());
    expect(second.batchItemFailures).toEqual([]);
    expect(live).toEqual({ items: before.items + 3, bytesArchived: before.bytesArchived + 128 });
    expect(live).toEqual(reported());
    // Never more than the items there are: nothing was counted twice on the way.
    expect(Math.max(...seen.map((s) => s.items))).toBe(before.items + 3);
  });
});
