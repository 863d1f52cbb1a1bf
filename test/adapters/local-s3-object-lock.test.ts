/**
 * The local S3 models a bucket with Object Lock as Amazon S3 does what the product needs of it
 * (functions/local/servers/s3-object-lock.ts): a bucket created with Object Lock enabled takes a
 * default retention (PutObjectLockConfiguration) and says it back (GetObjectLockConfiguration),
 * also after a restart; on such a bucket, a PutObject or UploadPart that carries neither
 * `Content-MD5` nor an `x-amz-checksum-*` header is refused with S3's `400 InvalidRequest` and
 * its message, and nothing is stored. CopyObject (no body) is not refused. A bucket without Object
 * Lock takes uploads without a digest as before.
 */
import { readdir } from 'node:fs/promises';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localS3ClientConfig } from '#local/servers/client-config.ts';
import { type LocalS3Server, startS3Server } from '#local/servers/s3-server.ts';
import {
  createObjectLockBucket,
  type LocalS3Bucket,
  openLocalS3Bucket,
} from '#test/helpers/local-s3-bucket.ts';
import { headStatus, s3Refusal } from '#test/helpers/s3-answers.ts';

/** A bucket without Object Lock (the helper's). */
const PLAIN = 'plain';
/** A bucket created with Object Lock enabled, given a default retention in `beforeAll`. */
const LOCKED = 'locked';
/** A bucket created with Object Lock enabled and no default retention. */
const LOCK_ONLY = 'lock-only';

let local: LocalS3Bucket;
let client: S3Client;

const PART = 5 * 1024 * 1024;
const PUT_MESSAGE =
  'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters';
const PART_MESSAGE =
  'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters';

beforeAll(async () => {
  local = await openLocalS3Bucket(PLAIN, { maxAttempts: 1 });
  client = local.client;
  await createObjectLockBucket(client, LOCKED);
  await client.send(new CreateBucketCommand({ Bucket: LOCK_ONLY, ObjectLockEnabledForBucket: true }));
});
afterAll(() => local.close());

/** The SDK exception `send` rejects with (a test failure when it resolves). */

/** Part files the upload holds on disk (s3rver keeps them under `._S3rver_uploads/<id>/`). */
async function storedParts(bucket: string, uploadId: string): Promise<string[]> {
  const files = await readdir(`${local.dir}/${bucket}/._S3rver_uploads/${uploadId}`);
  return files.filter((file) => /^[0-9]+$/.test(file));
}

describe('Object Lock configuration', () => {
  it('says back the default retention it was given', async () => {
    const got = await client.send(new GetObjectLockConfigurationCommand({ Bucket: LOCKED }));
    expect(got.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } },
    });
  });

  it('says a bucket created with Object Lock has it enabled, without a rule until one is put', async () => {
    const got = await client.send(new GetObjectLockConfigurationCommand({ Bucket: LOCK_ONLY }));
    expect(got.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
  });

  it('answers a bucket without Object Lock with 404 ObjectLockConfigurationNotFoundError', async () => {
    const error = await s3Refusal(client.send(new GetObjectLockConfigurationCommand({ Bucket: PLAIN })));
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(error.name).toBe('ObjectLockConfigurationNotFoundError');
    expect(error.message).toBe('Object Lock configuration does not exist for this bucket');
  });

  it('refuses a configuration on a bucket created without Object Lock (409 InvalidBucketState)', async () => {
    const error = await s3Refusal(
      client.send(
        new PutObjectLockConfigurationCommand({
          Bucket: PLAIN,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
          },
        }),
      ),
    );
    expect(error.$metadata.httpStatusCode).toBe(409);
    expect(error.name).toBe('InvalidBucketState');
    // Still no configuration, and uploads without a digest still go in.
    await s3Refusal(client.send(new GetObjectLockConfigurationCommand({ Bucket: PLAIN })));
  });

  it('refuses a default retention with both Days and Years, or none, with 400 MalformedXML', async () => {
    for (const DefaultRetention of [
      { Mode: 'GOVERNANCE' as const, Days: 1, Years: 1 },
      { Mode: 'GOVERNANCE' as const },
    ]) {
      const error = await s3Refusal(
        client.send(
          new PutObjectLockConfigurationCommand({
            Bucket: LOCK_ONLY,
            ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention } },
          }),
        ),
      );
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.name).toBe('MalformedXML');
    }
  });

  it('refuses a period that is not a positive integer with 400 InvalidArgument', async () => {
    const error = await s3Refusal(
      client.send(
        new PutObjectLockConfigurationCommand({
          Bucket: LOCK_ONLY,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 0 } },
          },
        }),
      ),
    );
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.name).toBe('InvalidArgument');
    const got = await client.send(new GetObjectLockConfigurationCommand({ Bucket: LOCK_ONLY }));
    expect(got.ObjectLockConfiguration?.Rule).toBeUndefined();
  });

  it('keeps the configuration across a restart of the local S3 on the same directory', async () => {
    const restartDir = local.dir;
    let second: LocalS3Server | undefined;
    let other: S3Client | undefined;
    try {
      // A second server on the same data: what a restart of the local runtime reads.
      second = await startS3Server({ directory: restartDir });
      other = new S3Client({ ...localS3ClientConfig(second.endpoint), maxAttempts: 1 });
      const got = await other.send(new GetObjectLockConfigurationCommand({ Bucket: LOCKED }));
      expect(got.ObjectLockConfiguration?.Rule?.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 30 });
      const error = await s3Refusal(
        other.send(new PutObjectCommand({ Bucket: LOCKED, Key: 'after-restart', Body: 'x' })),
      );
      expect(error.name).toBe('InvalidRequest');
    } finally {
      other?.destroy();
      await second?.stop();
    }
  });
});

describe('uploads to a bucket with a default retention', () => {
  it('refuses a PutObject without Content-MD5 or checksum with 400 InvalidRequest, storing nothing', async () => {
    for (const Body of [Buffer.alloc(10, 1), Buffer.alloc(300 * 1024, 2)]) {
      const error = await s3Refusal(client.send(new PutObjectCommand({ Bucket: LOCKED, Key: 'bare', Body })));
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.name).toBe('InvalidRequest');
      expect(error.message).toBe(PUT_MESSAGE);
      expect(await headStatus(client, LOCKED, 'bare')).toBe(404);
    }
  });

  it('takes a PutObject with Content-MD5, or with an x-amz-checksum-* header', async () => {
    const body = Buffer.from('photo bytes');
    const { createHash } = await import('node:crypto');
    await client.send(
      new PutObjectCommand({
        Bucket: LOCKED,
        Key: 'with-md5',
        Body: body,
        ContentMD5: createHash('md5').update(body).digest('base64'),
      }),
    );
    const put = await client.send(
      new PutObjectCommand({ Bucket: LOCKED, Key: 'with-crc32', Body: body, ChecksumAlgorithm: 'CRC32' }),
    );
    // Answered back, as S3 does.
    expect(put.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    for (const key of ['with-md5', 'with-crc32']) {
      const got = await client.send(new GetObjectCommand({ Bucket: LOCKED, Key: key }));
      expect(await got.Body?.transformToString()).toBe('photo bytes');
    }
  });

  it('refuses an UploadPart without Content-MD5 or checksum with 400 InvalidRequest, storing no part', async () => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: LOCKED, Key: 'video' }),
    );
    const error = await s3Refusal(
      client.send(
        new UploadPartCommand({
          Bucket: LOCKED,
          Key: 'video',
          UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(PART, 3),
        }),
      ),
    );
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.name).toBe('InvalidRequest');
    expect(error.message).toBe(PART_MESSAGE);
    expect(await storedParts(LOCKED, UploadId as string)).toEqual([]);
  });

  it('takes parts with a CRC32 checksum, answers it back, and completes with the parts listing it', async () => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: LOCKED, Key: 'video-crc', ChecksumAlgorithm: 'CRC32' }),
    );
    const parts = [];
    for (const [at, size] of [PART, 1024].entries()) {
      const sent = await client.send(
        new UploadPartCommand({
          Bucket: LOCKED,
          Key: 'video-crc',
          UploadId,
          PartNumber: at + 1,
          Body: Buffer.alloc(size, at + 4),
          ChecksumAlgorithm: 'CRC32',
        }),
      );
      expect(sent.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
      parts.push({ PartNumber: at + 1, ETag: sent.ETag, ChecksumCRC32: sent.ChecksumCRC32 });
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: LOCKED,
        Key: 'video-crc',
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: LOCKED, Key: 'video-crc' }));
    expect(head.ContentLength).toBe(PART + 1024);
  });

  it('copies an object onto itself (CopyObject has no body to check)', async () => {
    const copied = await client.send(
      new CopyObjectCommand({
        Bucket: LOCKED,
        Key: 'with-md5',
        CopySource: `${LOCKED}/with-md5`,
        MetadataDirective: 'REPLACE',
        Metadata: { md5chksum: 'x' },
      }),
    );
    expect(copied.$metadata.httpStatusCode).toBe(200);
  });

  it('leaves uploads to a bucket with Object Lock but no default retention as they were', async () => {
    await client.send(new PutObjectCommand({ Bucket: LOCK_ONLY, Key: 'bare', Body: 'x' }));
    expect(await headStatus(client, LOCK_ONLY, 'bare')).toBe(200);
  });

  it('refuses a PutObject naming a retention itself without a digest, on a bucket without default retention', async () => {
    const error = await s3Refusal(
      client.send(
        new PutObjectCommand({
          Bucket: LOCK_ONLY,
          Key: 'retained',
          Body: 'x',
          ObjectLockMode: 'GOVERNANCE',
          ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
        }),
      ),
    );
    expect(error.name).toBe('InvalidRequest');
    expect(error.message).toBe(PUT_MESSAGE);
  });
});

describe('a bucket without Object Lock', () => {
  it('takes a PutObject and an UploadPart without any digest, as before', async () => {
    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'bare', Body: 'x' }));
    expect(await headStatus(client, PLAIN, 'bare')).toBe(200);
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: PLAIN, Key: 'v' }));
    await client.send(
      new UploadPartCommand({ Bucket: PLAIN, Key: 'v', UploadId, PartNumber: 1, Body: Buffer.alloc(10) }),
    );
    expect(await storedParts(PLAIN, UploadId as string)).toEqual(['1']);
    const { Uploads } = await client.send(new ListMultipartUploadsCommand({ Bucket: PLAIN }));
    expect(Uploads?.map((upload) => upload.UploadId)).toContain(UploadId);
  });
});
