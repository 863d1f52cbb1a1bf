/**
 * A bucket given Object Lock and a default retention outside the stack (the workers have no
 * `ARCHIVE_OBJECT_LOCK`): S3 refuses the first video's parts for want of a digest. The download
 * handler, over the store the Lambda composes and the local S3's model of such a bucket, reports
 * the message as a batch item failure (SQS delivers it again) and records nothing `failed`; the
 * redelivery to the same warm instance archives the video, and the owner is warned once.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { archivingObjectStore } from '#compose/lambda-downloader.ts';
import { localArchiveS3ClientConfig } from '#compose/local-aws-stack.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { loadConfig } from '#shared/config.ts';
import { ENV, METRICS } from '#shared/env-names.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import {
  createObjectLockBucket,
  type LocalS3Bucket,
  openLocalS3Bucket,
} from '#test/helpers/local-s3-bucket.ts';
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
} from './handler-doubles.ts';

const LOCKED = 'locked-outside-the-stack';
const NOW = 1_750_000_000_000;
let local: LocalS3Bucket;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket('unused');
  client = new S3Client({ ...localArchiveS3ClientConfig(local.server.endpoint), maxAttempts: 1 });
  await createObjectLockBucket(client, LOCKED);
});
afterAll(async () => {
  client.destroy();
  await local.close();
});

describe('a download worker whose bucket was given Object Lock outside the stack', () => {
  it('retries the refused video instead of recording it failed, and archives it on redelivery', async () => {
    // The download Lambda's composition from its environment: no ARCHIVE_OBJECT_LOCK.
    const config = loadConfig({
      [ENV.archiveBucket]: LOCKED,
      [ENV.stateTable]: 'state',
      [ENV.workQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/work',
      [ENV.sessionSecretId]: 'session',
      [ENV.uploadPartSizeMiB]: String(MIN_PART_SIZE / 1024 / 1024),
      [ENV.uploadQueueSize]: '2',
    });
    const logger = new RecordingLogger();
    const metrics = new CollectedMetrics();
    const objects = archivingObjectStore(client, config, { logger, metrics });
    const state = new InMemorySyncStateStore({ now: () => NOW });
    const cdn = new ScriptedCdn();
    const size = 2 * MIN_PART_SIZE + 7;
    cdn.files.set('https://cdn.test/video', jpegBytes(size, 3));
    const results: MessageResult[] = [];
    // One warm instance: the handler and its store are built once, as at a cold start.
    const handler = createDownloadHandler({
      decode: parseWorkMessage,
      archive: {
        state,
        objects,
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: 'keep',
        now: () => NOW,
      },
      icloud: async () => fakeIcloud(cdn).adapters,
      logger,
      metrics,
      reserveMs: 1_000,
      onMessage: (result) => results.push(result),
    });
    const asset = photoAsset('video', size);
    const record = sqsRecord(workBody([{ type: 'asset', asset }], NOW));
    const ref = { zone: asset.zone, assetRecordName: asset.assetRecordName };

    const first = await handler(
      sqsEvent([record]),
      lambdaContext(() => 60_000),
    );
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect((await state.getEntry(ref))?.status).not.toBe('failed');
    expect(metrics.values.get(METRICS.assetsFailed) ?? 0).toBe(0);
    expect(logger.lines.filter((line) => line['message'] === 'asset failed permanently')).toEqual([]);

    const second = await handler(
      sqsEvent([{ ...record, receiptHandle: 'again' }]),
      lambdaContext(() => 60_000),
    );
    expect(second.batchItemFailures).toEqual([]);
    expect((await state.getEntry(ref))?.status).toBe('archived');
    expect(results.reduce((sum, r) => sum + r.archived, 0)).toBe(1);
    expect(results.reduce((sum, r) => sum + r.failed, 0)).toBe(0);
    expect(metrics.values.get(METRICS.objectLockUndeclared)).toBe(1);
    expect(
      logger.lines.filter(
        (line) => line['message'] === 'archive bucket has Object Lock the stack was not told of',
      ),
    ).toHaveLength(1);
  });
});
