/**
 * The last delivery of a resumable video reads its last bytes, completes the multipart upload and
 * rewrites the object (the metadata copy: UploadPartCopy over 5 GiB, CopyObject below). Whatever
 * ends that invocation once every part is stored (its deadline during the copy or the completion,
 * a crash before the completion is sent) must not cost the parts: the checkpoint saved before the
 * completion names the upload and the ETag its object gets, and the next delivery completes the
 * upload or finishes the object S3 completed, downloading nothing. (Audit 13 found the copy cut by
 * the deadline taking the completed object back, and the next delivery starting from byte 0.)
 */
import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { RangeServingDownloader } from '#test/fakes/range-serving-downloader.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';
import { longVideo, PART } from '#test/helpers/long-video.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

const { asset: VIDEO, size: SIZE, url: URL } = longVideo('long-video', 5);
const video = (): Asset => VIDEO;
const BYTES = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 2654435761) >>> 24));

const abortError = () =>
  Object.assign(new Error('the invocation is about to time out'), { name: 'AbortError' });

/** Where the second delivery's end comes, once every part is stored. */
const ENDS = {
  'during the metadata copy': 'copy',
  'during the completion, after S3 completed it (its answer lost)': 'completed',
  'before the completion is sent (a crash)': 'before-complete',
} as const;

describe('a resumable upload whose invocation ends once every part is stored', () => {
  it.each(Object.entries(ENDS))('%s: the next delivery finishes it without downloading', async (_, end) => {
    const dynamodb = new DynamoDBClient(local.aws.clientConfig.dynamodb);
    const s3 = new S3Client(local.aws.clientConfig.s3);
    let ending = false;
    let deadline = new AbortController();
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (!ending) return next(args);
        const copying =
          context.commandName === 'UploadPartCopyCommand' || context.commandName === 'CopyObjectCommand';
        const completing = context.commandName === 'CompleteMultipartUploadCommand';
        if (end === 'copy' && copying) deadline.abort(abortError());
        if (end === 'before-complete' && completing) throw abortError();
        const result = await next(args);
        if (end === 'completed' && completing) {
          deadline.abort(abortError());
          throw abortError();
        }
        return result;
      },
      { step: 'initialize', name: 'invocationEnds' },
    );
    const tableName = await local.createTable();
    const bucket = await local.createBucket();
    const state = new DynamoDbSyncStateStore({ client: DynamoDBDocumentClient.from(dynamodb), tableName });
    const cdn = new RangeServingDownloader();
    cdn.files.set(URL, BYTES);
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'run-1',
      issuedAt: Date.now(),
      items: [{ type: 'asset', asset: video() }],
    };
    const invocation = (moves: number, ends: boolean) => {
      const pause = new AbortController();
      deadline = new AbortController();
      ending = ends;
      cdn.onServed = (served) => {
        if (served >= moves) pause.abort();
      };
      const deps: ArchiveDeps = {
        state,
        // A small copy limit: the rewrite is the multipart copy a video over 5 GiB gets.
        objects: new S3ObjectStore({
          client: s3,
          bucket,
          partSize: PART,
          queueSize: 2,
          maxCopyBytes: 2 * PART,
        }),
        downloader: cdn,
        refresh: async () => ({ assets: [] }),
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: 'keep',
        now: () => Date.now(),
        signal: deadline.signal,
        resumableFromBytes: 2 * PART,
        pause: pause.signal,
      };
      return processWorkMessage(deps, message);
    };

    // Delivery 1 stores a little over three parts and pauses.
    await expect(invocation(3 * PART + 1, false)).rejects.toMatchObject({ name: 'TransferPausedError' });
    const resumedAt = cdn.offsets.length;
    // Delivery 2 reads the rest; its end comes once every part is stored.
    await expect(invocation(Number.POSITIVE_INFINITY, true)).rejects.toMatchObject({ name: 'AbortError' });
    expect(cdn.offsets[resumedAt]).toBeGreaterThan(0);
    const servedBefore = cdn.served;
    const downloads = cdn.offsets.length;
    // Delivery 3 has time enough: it downloads nothing and finishes the object.
    const result = await invocation(Number.POSITIVE_INFINITY, false);
    expect(result.archived).toBe(1);
    expect(cdn.served).toBe(servedBefore);
    expect(cdn.offsets).toHaveLength(downloads);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents).toHaveLength(1);
    const stored = listed.Contents?.[0]?.Key ?? '';
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: stored }));
    const md5 = createHash('md5').update(BYTES);
    expect(head.Metadata?.md5chksum).toBe(md5.digest('base64'));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: stored }));
    const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
    expect(bytes.equals(BYTES)).toBe(true);
    expect(await state.getTransferCheckpoint(stored)).toBeUndefined();
  });
});
