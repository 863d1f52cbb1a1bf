/**
 * What a work message's deliveries report (the run record `status` shows, the metrics, the local
 * runtime's `onMessage` summary and its live progress) counts each item once, whatever ends a
 * delivery: a sign-in iCloud demands mid-message, or a retry after an item failed for good.
 */

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { ItemProgress } from '#app/download-batch.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import {
  DownloadUrlExpiredError,
  RateLimitedError,
  SessionExpiredError,
  UnexpectedResponseError,
} from '#domain/errors.ts';
import { WORK_MESSAGE_VERSION, type WorkItem } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import type { AssetSource } from '#ports/asset-source.ts';
import { METRICS } from '#shared/env-names.ts';
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
} from './handler-doubles.ts';

const NOW = 1_750_000_000_000;
const RUN_STARTED = NOW - 5_000;

/** A handler per invocation (each a new Lambda), over one state, one bucket and one CDN. */
async function setUp(source: Partial<AssetSource> = {}) {
  const clock = { now: NOW };
  const state = new InMemorySyncStateStore({ now: () => clock.now });
  const objects = new InMemoryObjectStore({ now: () => clock.now, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const metrics = new CollectedMetrics();
  await state.startRun('run-1', 'detect', RUN_STARTED);
  const live = { items: 0, bytesArchived: 0 };
  const results: MessageResult[] = [];
  const handler = (batchItems?: number) =>
    createDownloadHandler({
      decode: parseWorkMessage,
      archive: {
        state,
        objects,
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: 'keep',
        now: () => clock.now,
      },
      icloud: async () => fakeIcloud(cdn, source).adapters,
      logger: new RecordingLogger(),
      metrics,
      reserveMs: 1_000,
      ...(batchItems === undefined ? {} : { batchItems }),
      onMessage: (result) => results.push(result),
      onItemProgress: (change: ItemProgress) => {
        live.items += change.items;
        live.bytesArchived += change.bytesArchived;
      },
    });
  const summed = () =>
    results.reduce(
      (sum, r) => ({
        items: sum.items + r.items,
        archived: sum.archived + r.archived,
        failed: sum.failed + r.failed,
        failures: sum.failures + r.failures.length,
        bytesArchived: sum.bytesArchived + r.bytesArchived,
      }),
      { items: 0, archived: 0, failed: 0, failures: 0, bytesArchived: 0 },
    );
  const runRecord = async () => (await state.listRuns(5)).find((r) => r.runId === 'run-1');
  return { clock, state, objects, cdn, metrics, live, results, handler, summed, runRecord };
}

function body(items: readonly WorkItem[]): string {
  return JSON.stringify({
    v: WORK_MESSAGE_VERSION,
    runId: 'run-1',
    runStartedAt: RUN_STARTED,
    issuedAt: NOW,
    items,
  });
}

const plenty = () => lambdaContext(() => 60_000);

describe('counts of a work message across its deliveries', () => {
  it('counts the photos a delivery archived before iCloud asked for a new sign-in, once', async () => {
    const { cdn, handler, live, metrics, runRecord, summed } = await setUp();
    for (const name of ['a', 'b', 'c', 'd']) cdn.files.set(`https://cdn.test/${name}`, jpegBytes(64, 7));
    cdn.files.set('https://cdn.test/d', () => new SessionExpiredError('sign in again'));
    const items: WorkItem[] = ['a', 'b', 'c', 'd'].map((name) => ({
      type: 'asset',
      asset: photoAsset(name, 64),
    }));
    const record = sqsRecord(body(items));

    // One item at a time: a, b and c are archived before d learns that a human is needed.
    const first = await handler(1)(sqsEvent([record]), plenty());
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(summed()).toMatchObject({ items: 3, archived: 3, failed: 0, bytesArchived: 192 });
    expect((await runRecord())?.counts).toMatchObject({ assetsArchived: 3, bytesArchived: 192 });
    expect(metrics.values.get(METRICS.assetsArchived)).toBe(3);
    expect(live).toEqual({ items: 3, bytesArchived: 192 });

    // After the person signed in again, the redelivery archives d and finds the others done.
    cdn.files.set('https://cdn.test/d', jpegBytes(64, 8));
    const second = await handler()(sqsEvent([{ ...record, receiptHandle: 'again' }]), plenty());
    expect(second.batchItemFailures).toEqual([]);
    expect(summed()).toMatchObject({ items: 4, archived: 4, failed: 0, bytesArchived: 256 });
    expect((await runRecord())?.counts).toMatchObject({ assetsArchived: 4, bytesArchived: 256 });
    expect(metrics.values.get(METRICS.assetsArchived)).toBe(4);
    expect(live).toEqual({ items: 4, bytesArchived: 256 });
  });

  it('counts each photo of a batch once when one of its messages learns mid-way that a sign-in is needed', async () => {
    const { cdn, handler, live, runRecord, summed } = await setUp();
    cdn.files.set('https://cdn.test/a', jpegBytes(64, 1));
    cdn.files.set('https://cdn.test/b', jpegBytes(64, 2));
    cdn.files.set('https://cdn.test/x', () => new SessionExpiredError('sign in again'));
    cdn.files.set('https://cdn.test/y', jpegBytes(64, 3));
    const done = sqsRecord(body([{ type: 'asset', asset: photoAsset('a', 64) }]));
    const stopped = sqsRecord(
      body([
        { type: 'asset', asset: photoAsset('b', 64) },
        { type: 'asset', asset: photoAsset('x', 64) },
        { type: 'asset', asset: photoAsset('y', 64) },
      ]),
    );
    const later = sqsRecord(body([{ type: 'asset', asset: photoAsset('z', 64) }]));
    cdn.files.set('https://cdn.test/z', jpegBytes(64, 4));

    const first = await handler(1)(sqsEvent([done, stopped, later]), plenty());
    const failed = new Set(first.batchItemFailures.map((f) => f.itemIdentifier));
    expect(failed.has(stopped.messageId)).toBe(true);
    // What the run record and the summary say is what is archived so far, whichever message ran first.
    const before = summed();
    expect(before.archived).toBeGreaterThanOrEqual(2); // a, and b before x
    expect((await runRecord())?.counts.assetsArchived).toBe(before.archived);
    expect(live.items).toBe(before.items);

    // Signed in again: the failed messages come back, and every photo is counted exactly once.
    cdn.files.set('https://cdn.test/x', jpegBytes(64, 5));
    const again = [done, stopped, later]
      .filter((r) => failed.has(r.messageId))
      .map((r) => ({ ...r, receiptHandle: `again-${r.messageId}` }));
    const second = await handler()(sqsEvent(again), plenty());
    expect(second.batchItemFailures).toEqual([]);
    expect(summed()).toMatchObject({ items: 5, archived: 5, failed: 0, bytesArchived: 320 });
    expect((await runRecord())?.counts).toMatchObject({ assetsArchived: 5, bytesArchived: 320 });
    expect(live).toEqual({ items: 5, bytesArchived: 320 });
  });

  it("writes a message's counts to the run record once it is done, before its batch ends: a crash then loses none", async () => {
    const { cdn, handler, runRecord } = await setUp();
    const records = ['a', 'b'].map((name) => {
      cdn.files.set(`https://cdn.test/${name}`, jpegBytes(64, 1));
      return sqsRecord(body([{ type: 'asset', asset: photoAsset(name, 64) }]));
    });
    // The second message's download waits until the first message's counts are on the record.
    let firstCounted = false;
    cdn.files.set('https://cdn.test/b', () =>
      Readable.from(
        (async function* () {
          for (let i = 0; i < 200 && !firstCounted; i += 1) {
            firstCounted = ((await runRecord())?.counts['assetsArchived'] ?? 0) >= 1;
            if (!firstCounted) await new Promise((resolve) => setTimeout(resolve, 5));
          }
          yield jpegBytes(64, 2);
        })(),
      ),
    );

    const result = await handler(1)(sqsEvent(records), plenty());

    expect(result.batchItemFailures).toEqual([]);
    expect(firstCounted).toBe(true);
    expect((await runRecord())?.counts).toMatchObject({
      assetsArchived: 2,
      filesArchived: 2,
      bytesArchived: 128,
    });
  });

  it('counts a photo that failed for good once, though its message is delivered again and it fails again', async () => {
    const { cdn, handler, live, metrics, runRecord, state, summed } = await setUp();
    cdn.files.set('https://cdn.test/fine', jpegBytes(64, 1));
    cdn.files.set(
      'https://cdn.test/broken',
      () => new UnexpectedResponseError('the file is gone', { permanent: true }),
    );
    cdn.files.set('https://cdn.test/limited', () => new RateLimitedError('429', { retryAfterSeconds: 5 }));
    const record = sqsRecord(
      body(['fine', 'broken', 'limited'].map((name) => ({ type: 'asset', asset: photoAsset(name, 64) }))),
    );

    const first = await handler()(sqsEvent([record]), plenty());
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(summed()).toMatchObject({ items: 2, archived: 1, failed: 1, failures: 1 });

    cdn.files.set('https://cdn.test/limited', jpegBytes(64, 2));
    const second = await handler()(sqsEvent([{ ...record, receiptHandle: 'again' }]), plenty());
    expect(second.batchItemFailures).toEqual([]);
    expect(summed()).toMatchObject({ items: 3, archived: 2, failed: 1, failures: 1, bytesArchived: 128 });
    const run = await runRecord();
    expect(run?.counts).toMatchObject({ assetsArchived: 2, assetsFailed: 1 });
    expect(run?.failures).toHaveLength(1);
    expect(metrics.values.get(METRICS.assetsFailed)).toBe(1);
    expect(live).toEqual({ items: 3, bytesArchived: 128 });
    // The asset still says it failed, and how often it was tried.
    expect(
      await state.getEntry({ zone: photoAsset('broken', 64).zone, assetRecordName: 'asset-broken' }),
    ).toMatchObject({ status: 'failed', failure: { attempts: 2 } });
  });

  it('counts nothing for photos whose expired URLs could not be refreshed, and everything on the redelivery', async () => {
    let lookupWorks = false;
    const { cdn, handler, live, runRecord, summed } = await setUp({
      lookupAssets: async (_zone, keys) => {
        if (!lookupWorks) throw new RateLimitedError('503 from records/lookup', { retryAfterSeconds: 1 });
        const fresh = (name: string) => {
          const asset = photoAsset(name, 64);
          return {
            ...asset,
            versions: asset.versions.map((v) => ({ ...v, downloadUrl: `${v.downloadUrl}?fresh` })),
          };
        };
        return {
          assets: keys.map((key) => fresh(key.assetRecordName.replace('asset-', ''))),
          missing: [],
          unavailable: [],
        };
      },
    });
    const names = ['p', 'q', 'r'];
    for (const name of names) {
      cdn.files.set(`https://cdn.test/${name}`, () => new DownloadUrlExpiredError('410'));
      cdn.files.set(`https://cdn.test/${name}?fresh`, jpegBytes(64, 9));
    }
    const record = sqsRecord(body(names.map((name) => ({ type: 'asset', asset: photoAsset(name, 64) }))));

    // Every URL is past its time and the lookup for fresh ones fails: no photo is done (none was
    // deleted in iCloud either), so the delivery counts none.
    const first = await handler()(sqsEvent([record]), plenty());
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(summed()).toMatchObject({ items: 0, archived: 0 });
    expect(live).toEqual({ items: 0, bytesArchived: 0 });

    lookupWorks = true;
    const second = await handler()(sqsEvent([{ ...record, receiptHandle: 'again' }]), plenty());
    expect(second.batchItemFailures).toEqual([]);
    expect(summed()).toMatchObject({ items: 3, archived: 3, bytesArchived: 192 });
    expect((await runRecord())?.counts).toMatchObject({ assetsArchived: 3 });
    expect(live).toEqual({ items: 3, bytesArchived: 192 });
  });
});
