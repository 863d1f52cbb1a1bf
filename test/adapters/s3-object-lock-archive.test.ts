/**
 * A deployment with `objectLockMode` governance or compliance creates the archive bucket with
 * Object Lock and a default retention (infra/archive-bucket.ts), and S3 then refuses every
 * PutObject and UploadPart without `Content-MD5` or an `x-amz-checksum-*` header. The archive's
 * S3 client computes no checksum S3 does not require (`ARCHIVE_S3_CLIENT_CONFIG`), so the
 * product's adapter must send a digest on every upload itself: a photo's PutObject its
 * `Content-MD5`, every part of a video its CRC32 when the stack says the bucket has Object Lock
 * (`ARCHIVE_OBJECT_LOCK`, infra/download-workers.ts). Here the store the download Lambda composes
 * from its environment (`archivingObjectStore`), with its client settings, archives into the
 * local S3's model of such a bucket (functions/local/servers/s3-object-lock.ts): a video larger
 * than a part, one that fits in a part, and bytes in memory. Without the setting (Object Lock
 * given to the bucket outside the stack), a video's parts are refused as S3 refuses them, and the
 * store learns from that refusal: the put fails retryable, the next one sends every part's CRC32,
 * and the owner is warned once.
 */
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, type S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { S3ObjectStoreWithoutStreaming } from '#adapters/aws/s3-object-store-without-streaming.ts';
import { archivingObjectStore, type ObjectLockReport } from '#compose/lambda-downloader.ts';
import { localArchiveS3ClientConfig } from '#compose/local-aws-stack.ts';
import { explainError } from '#domain/errors.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { loadConfig } from '#shared/config.ts';
import { ENV, METRICS } from '#shared/env-names.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { generatedDigest, generatedStream } from '#test/fakes/generated-stream.ts';
import { RecordingLogger } from '#test/handlers/handler-doubles.ts';
import {
  createObjectLockBucket,
  type LocalS3Bucket,
  openLocalS3Bucket,
} from '#test/helpers/local-s3-bucket.ts';

const LOCKED = 'locked-archive';
let local: LocalS3Bucket;
/** The archive's client as the download Lambda builds it (ARCHIVE_S3_CLIENT_CONFIG), one attempt. */
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket('unused');
  client = new S3Client({ ...localArchiveS3ClientConfig(local.server.endpoint), maxAttempts: 1 });
  // What `objectLockMode: governance` deploys: Object Lock and a default retention.
  await createObjectLockBucket(client, LOCKED);
});
afterAll(async () => {
  client.destroy();
  await local.close();
});

/** The download Lambda's store, from the environment the stack gives it (parts of 5 MiB here). */
function archivingStore(
  objectLock: 'true' | 'unset' = 'true',
  over: S3Client = client,
  report?: ObjectLockReport,
): S3ArchivingObjectStore {
  const config = loadConfig({
    [ENV.archiveBucket]: LOCKED,
    [ENV.stateTable]: 'state',
    [ENV.workQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/work',
    [ENV.sessionSecretId]: 'session',
    [ENV.uploadPartSizeMiB]: String(MIN_PART_SIZE / 1024 / 1024),
    [ENV.uploadQueueSize]: '2',
    ...(objectLock === 'true' && { [ENV.archiveObjectLock]: 'true' }),
  });
  return archivingObjectStore(over, config, report);
}

/**
 * The archive's client, recording the `x-amz-checksum-crc32` each UploadPart carried (`null`
 * for none), as signed and sent.
 */
function partRecordingClient(): { client: S3Client; parts: (string | null)[] } {
  const parts: (string | null)[] = [];
  const recording = new S3Client({ ...localArchiveS3ClientConfig(local.server.endpoint), maxAttempts: 1 });
  recording.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { query?: Record<string, unknown>; headers?: Record<string, string> };
      if (request.query?.['partNumber'] !== undefined)
        parts.push(request.headers?.['x-amz-checksum-crc32'] ?? null);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordParts', priority: 'low' },
  );
  return { client: recording, parts };
}

async function storedMd5(key: string): Promise<string> {
  const got = await client.send(new GetObjectCommand({ Bucket: LOCKED, Key: key }));
  return createHash('md5')
    .update(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())
    .digest('hex');
}

describe('archiving into a bucket with Object Lock and a default retention', () => {
  it('archives a video larger than a part (multipart, every part with a checksum)', async () => {
    const size = 2 * MIN_PART_SIZE + 123_457;
    const { stream } = generatedStream(size);
    const logger = new RecordingLogger();
    const store = archivingStore('true', client, { logger, metrics: new CollectedMetrics() });
    const result = await store.putStream('2024/01/VIDEO.MOV', stream, {
      contentType: 'video/quicktime',
      contentLength: size,
      metadata: mtimeMetadata(1_700_000_000_000),
    });
    const md5 = generatedDigest(size, 'md5');
    expect(result).toMatchObject({ size, md5, multipart: true });
    expect(await storedMd5('2024/01/VIDEO.MOV')).toBe(md5);
    const head = await client.send(new HeadObjectCommand({ Bucket: LOCKED, Key: '2024/01/VIDEO.MOV' }));
    expect(head.Metadata?.md5chksum).toBe(Buffer.from(md5, 'hex').toString('base64'));
    const { Uploads } = await client.send(new ListMultipartUploadsCommand({ Bucket: LOCKED }));
    expect(Uploads ?? []).toEqual([]);
    // Told by the stack: nothing to learn, nothing to report.
    expect(logger.lines).toEqual([]);
  });

  it('has a video refused without the setting, as S3 refuses it (400 InvalidRequest on UploadPart)', async () => {
    const size = MIN_PART_SIZE + 1;
    const { stream } = generatedStream(size);
    const error = await archivingStore('unset')
      .putStream('2024/01/REFUSED.MOV', stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: {},
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.name).toBe('InvalidRequest');
    expect(error?.message).toMatch(/for Put Part requests with Object Lock parameters$/);
    const { Uploads } = await client.send(new ListMultipartUploadsCommand({ Bucket: LOCKED }));
    expect(Uploads ?? []).toEqual([]);
  });

  it('learns from the refusal when the stack was not told: that put fails retryable, the next one digests every part', async () => {
    // Object Lock given to the bucket outside the stack: the workers have no ARCHIVE_OBJECT_LOCK.
    const { client: recording, parts } = partRecordingClient();
    const logger = new RecordingLogger();
    const metrics = new CollectedMetrics();
    const store = archivingStore('unset', recording, { logger, metrics });
    const size = 2 * MIN_PART_SIZE + 1;
    const put = (key: string) =>
      store.putStream(key, generatedStream(size).stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: mtimeMetadata(1_700_000_000_000),
      });
    try {
      const refused = await put('2024/02/LEARNT.MOV').then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(refused?.name).toBe('InvalidRequest');
      // Retryable: the message is delivered again rather than the video recorded `failed`.
      expect(explainError(refused)).toEqual({ errorClass: 'retryable', rule: 'sdk-object-lock-digest' });
      expect(parts.length).toBeGreaterThan(0);
      expect(parts.every((crc) => crc === null)).toBe(true);
      const { Uploads } = await client.send(new ListMultipartUploadsCommand({ Bucket: LOCKED }));
      expect(Uploads ?? []).toEqual([]);

      // The redelivery, to the same warm instance: every part carries its CRC32, S3 stores it.
      parts.length = 0;
      const md5 = generatedDigest(size, 'md5');
      expect(await put('2024/02/LEARNT.MOV')).toMatchObject({ size, md5, multipart: true });
      expect(await storedMd5('2024/02/LEARNT.MOV')).toBe(md5);
      expect(parts).toHaveLength(3);
      expect(parts.every((crc) => typeof crc === 'string' && crc.length > 0)).toBe(true);

      // The owner is told once per process, not once per video.
      expect(await put('2024/02/AGAIN.MOV')).toMatchObject({ size, md5 });
      const warnings = logger.lines.filter((line) => line['level'] === 'WARN');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        message: 'archive bucket has Object Lock the stack was not told of',
        bucket: LOCKED,
      });
      expect(metrics.values.get(METRICS.objectLockUndeclared)).toBe(1);
    } finally {
      recording.destroy();
    }
  });

  it('archives a video that fits in one part (one PutObject with Content-MD5)', async () => {
    const size = MIN_PART_SIZE - 1;
    const { stream } = generatedStream(size);
    const result = await archivingStore().putStream('2024/01/SHORT.MOV', stream, {
      contentType: 'video/quicktime',
      contentLength: size,
      metadata: mtimeMetadata(1_700_000_000_000),
    });
    expect(result).toMatchObject({ size, multipart: false });
    expect(await storedMd5('2024/01/SHORT.MOV')).toBe(generatedDigest(size, 'md5'));
  });

  it('writes bytes in memory (album views, catalog journals and shards)', async () => {
    const store = new S3ObjectStoreWithoutStreaming({ client, bucket: LOCKED });
    const body = new TextEncoder().encode('{"album":"view"}');
    await store.putBytes('albums/view.json', body, { contentType: 'application/json', metadata: {} });
    expect(await storedMd5('albums/view.json')).toBe(createHash('md5').update(body).digest('hex'));
  });
});
