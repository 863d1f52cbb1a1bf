/**
 * The download worker's SQS contract (Powertools partial batch responses) over in-memory stores
 * and a scripted CDN: which records fail, which are acknowledged, what is recorded and emitted.
 */

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import {
  RateLimitedError,
  SessionExpiredError,
  SignInLatchedError,
  UnexpectedResponseError,
} from '#domain/errors.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
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
  workBody,
  ZONE,
} from './handler-doubles.ts';

const NOW = 1_750_000_000_000;

/** `latched`: the stored session carries the reauth latch (opening it throws before any request). */
function setUp(latched = false, batchItems?: number) {
  const state = new InMemorySyncStateStore({ now: () => NOW });
  const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const icloud = fakeIcloud(cdn);
  const logger = new RecordingLogger();
  const metrics = new CollectedMetrics();
  let opened = 0;
  const handler = createDownloadHandler({
    decode: parseWorkMessage,
    archive: {
      state,
      objects,
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => NOW,
    },
    icloud: async () => {
      opened += 1;
      if (latched) throw new SignInLatchedError('sign-in needed since earlier', { since: NOW - 1 });
      return icloud.adapters;
    },
    logger,
    ...(batchItems === undefined ? {} : { batchItems }),
    metrics,
    reserveMs: 1_000,
  });
  /** A work message archiving one photo served by the CDN (or failing as `failure` says). */
  const photoRecord = (name: string, failure?: () => Error) => {
    const asset = photoAsset(name, 64);
    cdn.files.set(`https://cdn.test/${name}`, failure ?? jpegBytes(64, name.length));
    return sqsRecord(workBody([{ type: 'asset', asset }], NOW));
  };
  return { state, objects, cdn, icloud, logger, metrics, handler, photoRecord, opened: () => opened };
}

const plenty = () => lambdaContext(() => 60_000);

describe('the download handler', () => {
  it('archives every record of a healthy batch and reports no failures', async () => {
    const { handler, photoRecord, objects, metrics } = setUp();

    const response = await handler(sqsEvent([photoRecord('a'), photoRecord('b')]), plenty());

    expect(response.batchItemFailures).toEqual([]);
    expect(objects.keys()).toHaveLength(2);
    expect(metrics.values.get(METRICS.assetsArchived)).toBe(2);
  });

  it('fails only the record whose download hit a retryable error', async () => {
    const { handler, photoRecord, objects, state } = setUp();
    const slow = photoRecord('slow', () => new RateLimitedError('429', { retryAfterSeconds: 5 }));

    const response = await handler(sqsEvent([photoRecord('a'), slow, photoRecord('c')]), plenty());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: slow.messageId }]);
    expect(objects.keys()).toHaveLength(2);
    expect(await state.getEntry({ zone: ZONE, assetRecordName: 'asset-slow' })).toBeUndefined();
  });

  it('fails a message that is not a work message (SQS moves it to the alarmed dead-letter queue), counts it and logs it without its body', async () => {
    const { handler, photoRecord, logger, metrics, objects } = setUp();
    const junk = sqsRecord('{"v":1,"runId":"r","issuedAt":0,"items":[],"secret":"https://cdn.test/signed"}');

    const response = await handler(sqsEvent([junk, photoRecord('a')]), plenty());

    // Detection has moved its token past this work: acknowledging it would lose it without a trace.
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: junk.messageId }]);
    expect(metrics.values.get(METRICS.workMessagesRejected)).toBe(1);
    expect(objects.keys()).toHaveLength(1);
    const rejected = logger.lines.find((l) => l['message'] === 'work message rejected');
    expect(rejected).toMatchObject({ messageId: junk.messageId });
    expect(JSON.stringify(logger.lines)).not.toContain('cdn.test/signed');
  });

  it('records a permanent failure on the asset and acknowledges the message', async () => {
    const { handler, photoRecord, state, metrics, logger } = setUp();
    const broken = photoRecord(
      'broken',
      () => new UnexpectedResponseError('the file is gone', { permanent: true }),
    );

    const response = await handler(sqsEvent([broken]), plenty());

    expect(response.batchItemFailures).toEqual([]);
    const entry = await state.getEntry({ zone: ZONE, assetRecordName: 'asset-broken' });
    expect(entry).toMatchObject({ status: 'failed', failure: { attempts: 1 } });
    expect(entry?.failure?.reason).toContain('the file is gone');
    expect(metrics.values.get(METRICS.assetsFailed)).toBe(1);
    expect(logger.messages()).toContain('asset failed permanently');
  });

  it('stops the rest of the batch at once when iCloud needs a new sign-in, and says so in a metric', async () => {
    // One item in flight at a time: the others are still waiting when the first learns it.
    const { handler, photoRecord, cdn, metrics, objects } = setUp(false, 1);
    const first = photoRecord('first', () => new SessionExpiredError('sign in again'));
    const second = photoRecord('second');
    const third = photoRecord('third');

    const response = await handler(sqsEvent([first, second, third]), plenty());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [first.messageId, second.messageId, third.messageId].sort(),
    );
    expect(cdn.opened).toEqual(['https://cdn.test/first']);
    expect(objects.keys()).toEqual([]);
    expect(metrics.values.get(METRICS.reauthRequired)).toBe(1);
  });

  it('fails a batch on a latched session without a download or a second reauthRequired', async () => {
    const { handler, photoRecord, cdn, metrics } = setUp(true);
    const first = photoRecord('first');
    const second = photoRecord('second');

    const response = await handler(sqsEvent([first, second]), plenty());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      first.messageId,
      second.messageId,
    ]);
    expect(cdn.opened).toEqual([]);
    // The run that set the latch raised the alarm already.
    expect(metrics.values.get(METRICS.reauthRequired)).toBeUndefined();
  });

  it('aborts an upload still running when the deadline nears, leaves no object, and fails that record', async () => {
    const { handler, cdn, objects, state } = setUp();
    const stalled = new PassThrough();
    stalled.write(jpegBytes(16));
    cdn.files.set('https://cdn.test/stalled', () => stalled);
    const record = sqsRecord(workBody([{ type: 'asset', asset: photoAsset('stalled', 1_000) }], NOW));

    const response = await handler(
      sqsEvent([record]),
      lambdaContext(() => 1_050),
    );

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(objects.keys()).toEqual([]);
    expect(await state.getEntry({ zone: ZONE, assetRecordName: 'asset-stalled' })).toBeUndefined();
  });

  it('carries out the messages of a batch and the items of a message at once, no more than its bound', async () => {
    // Two messages of three: four at once needs both messages in flight, and no fifth may start.
    const { handler, cdn, objects } = setUp(false, 4);
    // Every download stays open until the test has seen how many are open together.
    const held: PassThrough[] = [];
    const records = [0, 1].map((m) =>
      sqsRecord(
        workBody(
          [0, 1, 2].map((i) => {
            const name = `m${m}-${i}`;
            cdn.files.set(`https://cdn.test/${name}`, () => {
              const body = new PassThrough();
              held.push(body);
              return body;
            });
            return { type: 'asset' as const, asset: photoAsset(name, 64) };
          }),
          NOW,
        ),
      ),
    );

    const response = handler(sqsEvent(records), plenty());
    for (let i = 0; i < 200 && held.length < 4; i++) await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    const openTogether = held.length;
    for (let done = 0; done < 6; done++) {
      for (let i = 0; i < 200 && held.length <= done; i++)
        await new Promise((resolve) => setImmediate(resolve));
      held[done]?.end(jpegBytes(64, done));
    }

    expect(openTogether).toBe(4);
    expect((await response).batchItemFailures).toEqual([]);
    expect(cdn.opened).toHaveLength(6);
    expect(objects.keys()).toHaveLength(6);
  });

  it('opens the iCloud session once per invocation and stores its rotated cookies at the end', async () => {
    const { handler, photoRecord, icloud, opened } = setUp();

    await handler(sqsEvent([photoRecord('a'), photoRecord('b')]), plenty());

    expect(opened()).toBe(1);
    expect(icloud.saves()).toBe(1);
  });

  it('skips a record already archived when SQS delivers it again', async () => {
    const { handler, photoRecord, cdn, metrics } = setUp();
    const record = photoRecord('twice');
    await handler(sqsEvent([record]), plenty());

    const response = await handler(sqsEvent([{ ...record, messageId: 'redelivered' }]), plenty());

    expect(response.batchItemFailures).toEqual([]);
    expect(cdn.opened).toEqual(['https://cdn.test/twice']);
    expect(metrics.values.get(METRICS.assetsArchived)).toBe(1);
  });
});
