/**
 * A video that needs more worker invocations than the work queue's receives allow
 * (`MAX_RECEIVE_COUNT`, docs/reliability.md finding 48): each paused delivery that stored more
 * than its checkpoint held hands the item on as a new work message and is itself done, so the
 * video goes on at once with fresh receives. Through the download handler, the local SQS (its
 * receive counts, its redrive policy and dead-letter queue), dynalite and s3rver; the CDN serves a
 * part's worth per invocation and then stalls, so the pause (timed from the invocation's remaining
 * time, as in Lambda) finds one more part stored each time. On main every pause was a batch item
 * failure: the fifth receive moved the message to the dead-letter queue with the video unarchived.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import { encodeWorkMessage, parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { createLambdaContext } from '#local/lambda-context.ts';
import type { WorkQueueUrls } from '#local/servers/provision.ts';
import { pollOnce } from '#local/sqs-event-source.ts';
import type { MediaDownload, MediaDownloader } from '#ports/media-download.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';
import { longVideo, PART } from '#test/helpers/long-video.ts';
import { MAX_RECEIVE_COUNT } from '../../infra/work-queue.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
}, 60_000);
afterAll(async () => {
  await local?.stop();
});

/** Seven invocations at a part each: more than the five receives a message has. */
const PARTS = MAX_RECEIVE_COUNT + 1;
const { asset: VIDEO, size: SIZE } = longVideo('very-long-video', PARTS);
const video = (): Asset => VIDEO;
/** The invocation's timing: the pause comes `PAUSE_AFTER_MS` in, the uploads' abort well after. */
const RESERVE_MS = 1_000;
const PAUSE_LEAD_MS = 8_000;
const PAUSE_AFTER_MS = 1_500;

/**
 * A CDN that serves each download `limit` bytes from the offset asked for, then sends nothing more
 * (the rest of the invocation's time goes by): what one invocation moves.
 */
class OnePartPerInvocation implements MediaDownloader {
  readonly offsets: number[] = [];
  served = 0;
  constructor(
    readonly bytes: Buffer,
    public limit: number,
  ) {}
  async open(_url: string, options: { readonly offset?: number } = {}): Promise<MediaDownload> {
    const offset = options.offset ?? 0;
    this.offsets.push(offset);
    const end = Math.min(this.bytes.length, offset + this.limit);
    let at = offset;
    const body = new Readable({
      read: () => {
        if (at >= this.bytes.length) return void body.push(null);
        if (at >= end) return; // stalls until the transfer stops reading
        const chunk = this.bytes.subarray(at, Math.min(end, at + 256 * 1024));
        at += chunk.length;
        this.served += chunk.length;
        body.push(chunk);
      },
    });
    return { body, contentLength: this.bytes.length - offset, startsAt: offset };
  }
}

const hex = (algorithm: string, bytes: Buffer) => createHash(algorithm).update(bytes).digest('hex');

async function setUp(options: { readonly continuation?: (queue: WorkQueue) => WorkQueue } = {}) {
  const dynamodb = new DynamoDBClient(local.aws.clientConfig.dynamodb);
  const s3 = new S3Client(local.aws.clientConfig.s3);
  const [tableName, bucket, queue] = await Promise.all([
    local.createTable(),
    local.createBucket(),
    local.createQueue({ visibilityTimeoutSeconds: 30, maxReceiveCount: MAX_RECEIVE_COUNT }),
  ]);
  const state = new DynamoDbSyncStateStore({ client: DynamoDBDocumentClient.from(dynamodb), tableName });
  const bytes = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 2654435761) >>> 24));
  const cdn = new OnePartPerInvocation(bytes, PART + 1);
  const sent = new SqsWorkQueue({ client: local.sqs, queueUrl: queue.queueUrl });
  const continuation = options.continuation?.(sent) ?? sent;
  const deps: DownloadBatchDeps = {
    archive: {
      state,
      objects: new S3ObjectStore({ client: s3, bucket, partSize: PART, queueSize: 2 }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: Date.now,
      resumableFromBytes: 2 * PART,
      continuation,
    },
    icloud: async () => ({
      session: { storedAt: Date.now(), save: async () => undefined },
      source: { lookupAssets: async () => ({ assets: [], missing: [], unavailable: [] }) },
      downloader: cdn,
      requests: { counts: () => ({}), total: () => 0 },
    }),
    decode: parseWorkMessage,
    logger: createLogger({ level: 'SILENT' }),
    metrics: new CollectedMetrics(),
    reserveMs: RESERVE_MS,
    pauseLeadMs: PAUSE_LEAD_MS,
  };
  const handler = createDownloadHandler(deps);
  /** The receive count of every record the workers were given. */
  const receives: number[] = [];
  const message: WorkMessage = {
    v: WORK_MESSAGE_VERSION,
    runId: 'run-1',
    issuedAt: Date.now(),
    items: [{ type: 'asset', asset: video() }],
  };
  const enqueue = (body = encodeWorkMessage(message)) =>
    local.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body }));
  /** One worker invocation over what the queue holds now; undefined when nothing was visible. */
  const invoke = () =>
    pollOnce({
      sqs: local.sqs,
      queueUrl: queue.queueUrl,
      queueArn: queue.queueArn,
      handler: (event: SQSEvent, context) => {
        for (const record of event.Records) receives.push(Number(record.attributes.ApproximateReceiveCount));
        return handler(event, context);
      },
      context: () => createLambdaContext('download-assets', RESERVE_MS + PAUSE_LEAD_MS + PAUSE_AFTER_MS),
      // One message per invocation: two copies of the item never race in one batch here.
      batchSize: 1,
      visibilityTimeoutSeconds: 30,
      retryDelaySeconds: 1,
    });
  /** Invocations until the queue stays empty (a failed message is invisible for a second first). */
  const drain = async (most = 3 * PARTS) => {
    let invocations = 0;
    for (let idle = 0; idle < 15 && invocations < most; ) {
      const outcome = await invoke();
      if (outcome === undefined) {
        idle++;
        await new Promise((resolve) => setTimeout(resolve, 150));
      } else {
        idle = 0;
        invocations++;
      }
    }
    return invocations;
  };
  const openUploads = async () =>
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
  const waiting = async (queueUrl: string) => {
    const { Attributes } = await local.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
  const entry = () => state.getEntry({ zone: video().zone, assetRecordName: video().assetRecordName });
  return { state, bytes, cdn, queue, enqueue, invoke, drain, receives, openUploads, waiting, entry };
}

async function expectArchivedByteExact(
  setup: Awaited<ReturnType<typeof setUp>>,
  queue: WorkQueueUrls,
): Promise<void> {
  const entry = await setup.entry();
  expect(entry?.status).toBe('archived');
  expect(entry?.versions[0]).toMatchObject({
    size: SIZE,
    md5: hex('md5', setup.bytes),
    sha256: hex('sha256', setup.bytes),
  });
  expect(await setup.openUploads()).toBe(0);
  expect(await setup.state.getTransferCheckpoint(entry?.versions[0]?.key ?? '')).toBeUndefined();
  expect(await setup.waiting(queue.queueUrl)).toBe(0);
  expect(await setup.waiting(queue.deadLetterQueueUrl)).toBe(0);
}

describe('a video that needs more invocations than a message has receives', () => {
  it('goes on in a new work message after each pause that stored more, and is archived', async () => {
    const setup = await setUp();
    await setup.enqueue();
    const invocations = await setup.drain();

    await expectArchivedByteExact(setup, setup.queue);
    // One part per invocation: the video took more invocations than a message has receives, each
    // the first receive of its message (nothing waited for a visibility timeout).
    expect(invocations).toBe(PARTS + 1);
    expect(setup.receives).toEqual(Array.from({ length: PARTS + 1 }, () => 1));
    // Each went on where the last stopped: the video downloaded once (and the byte past each
    // paused part, read before the pause and not kept).
    expect(setup.cdn.offsets).toEqual(Array.from({ length: PARTS + 1 }, (_, i) => i * PART));
    expect(setup.cdn.served).toBe(SIZE + PARTS);
  }, 120_000);

  it('falls back to the receive when the new message cannot be sent: the item is not lost', async () => {
    let refusals = 2;
    const setup = await setUp({
      continuation: (queue) => ({
        enqueue: async (messages) => {
          if (refusals-- > 0) throw new Error('SQS refused the send');
          return queue.enqueue(messages);
        },
      }),
    });
    await setup.enqueue();
    await setup.drain();

    await expectArchivedByteExact(setup, setup.queue);
    // The two refused sends cost the first message two receives; every continuation began afresh.
    expect(setup.receives.slice(0, 3)).toEqual([1, 2, 3]);
    expect(setup.receives.slice(3).every((count) => count === 1)).toBe(true);
    expect(setup.cdn.served).toBe(SIZE + PARTS);
  }, 120_000);

  it('spends receives as before when a pause stored nothing more than its checkpoint held', async () => {
    const setup = await setUp();
    // Less than a part per invocation: no part is ever stored, no new message is sent.
    setup.cdn.limit = PART - 1;
    await setup.enqueue();
    await setup.drain();

    expect(setup.receives).toEqual(Array.from({ length: MAX_RECEIVE_COUNT }, (_, i) => i + 1));
    expect(await setup.waiting(setup.queue.queueUrl)).toBe(0);
    expect(await setup.waiting(setup.queue.deadLetterQueueUrl)).toBe(1);
    expect((await setup.entry())?.status).not.toBe('archived');
  }, 120_000);

  it('archives it once when the paused message is delivered again beside its continuation', async () => {
    const setup = await setUp();
    await setup.enqueue();
    // The first invocation pauses and sends the continuation; the crash before its batch result
    // reached SQS is played by delivering the original message again.
    expect(await setup.invoke()).toMatchObject({ received: 1, failed: 0 });
    await setup.enqueue();
    await setup.drain();

    await expectArchivedByteExact(setup, setup.queue);
    // Both deliveries went on from the checkpoint (never from byte 0 again) and one object came of it.
    expect(setup.cdn.offsets.filter((offset) => offset === 0)).toHaveLength(1);
    const entry = await setup.entry();
    expect(entry?.versions).toHaveLength(1);
  }, 120_000);
});
