/**
 * The catalog of a photo whose work finishes more than `JOURNAL_RETENTION_MS` (7 days) after
 * detection journalled it. Found by the absence audit (2026-12-07): the fold that finds such an
 * item expired drops it (with no manifest entry: neither recorded nor carried; with one: recorded
 * from the entry as it stood), and the worker that archived the photo later wrote no journal item,
 * so no later fold recorded it: archived, but never in `catalog/` nor given its XMP sidecar. Two
 * absence paths reach it inside the 14 days SQS keeps work: a sign-in latch of 7-14 days (no fold
 * while latched, finding 101; the first run after the login redrives the parked work and folds at
 * its end, before the workers are done), and a dead letter sent back by hand a week on. The work
 * here goes through the workers' handler, as in AWS. And late work renewed after a newer change
 * of the photo was folded never puts its old facts back in the record (found by the review of that
 * fix): its item is older than the entry's change, so it is settled at once and its facts go
 * beneath the record's.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { foldCatalog, journalingQueue, readText } from '#app/catalog-upkeep.ts';
import { CATALOG_JOURNAL_PREFIX, journalSchema } from '#domain/catalog/catalog-journal.ts';
import { decodeShard, shardKey, shardOf } from '#domain/catalog/catalog-shard.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkItem, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import {
  fakeIcloud,
  jpegBytes,
  lambdaContext,
  photoAsset,
  RecordingLogger,
  ScriptedCdn,
  sqsEvent,
  sqsRecord,
} from '#test/handlers/handler-doubles.ts';

const DAY = 24 * 60 * 60 * 1000;
const MINUTES = 60 * 1000;

/** A photo served by the CDN, and the bucket, manifest, journalling queue and workers around it. */
function setUp() {
  let now = 1_750_000_000_000;
  const clock = () => now;
  const state = new InMemorySyncStateStore({ now: clock });
  const objects = new InMemoryObjectStore({ now: clock, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const queue = journalingQueue(new InMemoryWorkQueue(), objects, clock);
  let current: Asset = photoAsset('fav', 100);
  cdn.files.set(current.versions[0]?.downloadUrl ?? '', jpegBytes(100, 3));
  const logger = new RecordingLogger();
  // Late work's URLs are refreshed first: the lookup serves the photo as iCloud has it now.
  const icloud = fakeIcloud(cdn, {
    lookupAssets: async () => ({ assets: [current], missing: [], unavailable: [] }),
  });
  const worker = createDownloadHandler({
    decode: parseWorkMessage,
    archive: { state, objects, versionPolicy: DEFAULT_VERSION_POLICY, deletePolicy: 'keep', now: clock },
    icloud: async () => icloud.adapters,
    logger,
    metrics: new CollectedMetrics(),
    reserveMs: 1_000,
  });
  const catalog = { state, objects, logger, now: clock };
  return {
    asset: () => current,
    /** iCloud's photo becomes `asset` (an edit, a favourite). */
    change: (asset: Asset) => {
      current = asset;
    },
    cdn,
    /** Detection hands `items` over in one message: journalled, then enqueued. */
    enqueue: async (items: WorkItem[]): Promise<WorkMessage> => {
      const message: WorkMessage = { v: WORK_MESSAGE_VERSION, runId: 'run', issuedAt: now, items };
      await queue.enqueue([message]);
      return message;
    },
    /** A worker's delivery of `message` (as SQS hands it over, on time or redriven). */
    work: async (message: WorkMessage) => {
      const answer = await worker(
        sqsEvent([sqsRecord(JSON.stringify(message))]),
        lambdaContext(() => 60_000),
      );
      expect(answer.batchItemFailures).toEqual([]);
    },
    fold: (owner: string) => foldCatalog(catalog, owner),
    advance: (ms: number) => {
      now += ms;
    },
    journalItems: async () => {
      const items = [];
      for await (const object of objects.list(CATALOG_JOURNAL_PREFIX)) {
        const text = (await readText(objects, object.key)) ?? '';
        items.push(...journalSchema.parse(JSON.parse(text)).items);
      }
      return items;
    },
    fullRecord: async () => {
      const text = (await readText(objects, shardKey(shardOf(current)))) ?? '';
      return decodeShard(text).find((r) => r.asset === current.assetRecordName);
    },
    record: async () => {
      const text = (await readText(objects, shardKey(shardOf(current)))) ?? '';
      const found = decodeShard(text).find((r) => r.asset === current.assetRecordName);
      return {
        status: found?.status,
        favorite: found?.favorite,
        originals: found?.versions.filter((v) => v.kind === 'original').length,
      };
    },
  };
}

describe('the catalog of a photo whose work finishes more than 7 days after detection', () => {
  it('records the photo once its late work is archived (a 10-day sign-in latch)', async () => {
    const { asset, enqueue, work, fold, advance, record, journalItems } = setUp();

    // Detection journals and enqueues a new photo; then the session latches for 10 days: the
    // message waits in the dead-letter queue, no fold runs (finding 101).
    const message = await enqueue([{ type: 'asset', asset: asset() }]);
    advance(10 * DAY);
    // The login. The first run redrives the message and folds at its end, the worker not done
    // yet: the item is past the journal's retention and its photo has no entry, so it is dropped.
    expect(await fold('run-after-login')).toMatchObject({ assetsFolded: 0, assetsCarried: 0 });
    expect(await journalItems()).toEqual([]);
    // The worker takes the redriven message (the same body, issued 10 days ago).
    await work(message);
    advance(15 * MINUTES);
    await fold('run-next');

    expect(await record()).toEqual({ status: 'archived', favorite: false, originals: 1 });
    expect(await journalItems()).toEqual([]);
  });

  it('updates the record of an edit archived late (a dead letter sent back by hand on day 9)', async () => {
    const { asset, change, cdn, enqueue, work, fold, advance, record, journalItems } = setUp();
    await work(await enqueue([{ type: 'asset', asset: asset() }]));
    await fold('run-1');
    expect(await record()).toEqual({ status: 'archived', favorite: false, originals: 1 });

    // Made a favourite: the message's tries run out (given up), and the folds go on meanwhile.
    const favourite: Asset = { ...asset(), assetChangeTag: 'a2', isFavorite: true };
    change(favourite);
    const message = await enqueue([{ type: 'asset', asset: favourite }]);
    advance(8 * DAY);
    // Past the retention, with an entry: recorded as the entry stands (not a favourite), dropped.
    expect(await fold('run-day-8')).toMatchObject({ assetsFolded: 1, assetsCarried: 0 });
    expect(await journalItems()).toEqual([]);
    // Day 9: a person sends the dead letter back (docs/deploy.md); the worker archives it.
    advance(DAY);
    cdn.files.set(favourite.versions[0]?.downloadUrl ?? '', jpegBytes(100, 3));
    await work(message);
    await fold('run-day-9');

    expect(await record()).toEqual({ status: 'archived', favorite: true, originals: 1 });
  });

  it('writes no journal for work on time', async () => {
    const { asset, enqueue, work, fold, record, journalItems } = setUp();
    await work(await enqueue([{ type: 'asset', asset: asset() }]));
    // Detection's one object, nothing from the worker.
    expect(await journalItems()).toHaveLength(1);
    await fold('run-1');
    expect(await journalItems()).toEqual([]);
    expect(await record()).toEqual({ status: 'archived', favorite: false, originals: 1 });
  });

  it("keeps a newer change's facts when work older than it is renewed after it was folded", async () => {
    const { asset, change, enqueue, work, fold, advance, fullRecord, journalItems } = setUp();
    await work(await enqueue([{ type: 'asset', asset: asset() }]));
    await fold('run-1');

    // The capture date is corrected (t2): its message's tries run out for now (a 503 window), and
    // it waits in the dead-letter queue; the same day the date is corrected again (t3), archived.
    const firstFix: Asset = { ...asset(), assetChangeTag: 't2', captureTime: Date.UTC(2001, 0, 1) };
    change(firstFix);
    const old = await enqueue([{ type: 'asset', asset: firstFix }]);
    advance(60 * MINUTES);
    const secondFix: Asset = { ...asset(), assetChangeTag: 't3', captureTime: Date.UTC(2002, 6, 2) };
    change(secondFix);
    await work(await enqueue([{ type: 'asset', asset: secondFix }]));
    await fold('run-2');
    expect((await fullRecord())?.capturedAt).toBe(Date.UTC(2002, 6, 2));

    // Then a sign-in latch of 8 days (the dead letter waits, redrives unspent: finding 20). After
    // the login the first run redrives it: the worker takes work issued 8 days ago, journals it
    // again (finding 118), and finds the entry newer (nothing to archive).
    advance(8 * DAY);
    await work(old);
    await fold('run-after-login');
    // Settled at once (the entry holds a newer change), the record as t3 left it.
    expect(await journalItems()).toEqual([]);
    expect((await fullRecord())?.capturedAt).toBe(Date.UTC(2002, 6, 2));
    for (let day = 0; day < 8; day += 1) {
      advance(DAY);
      await fold(`run-day-${day}`);
    }
    expect((await fullRecord())?.capturedAt).toBe(Date.UTC(2002, 6, 2));
  });
});
