/**
 * Audit (session 15, cost): with the default `transitionClass=INTELLIGENT_TIERING` and
 * `transitionDays=0` (infra/config.ts), every archived object is uploaded to S3 Standard and then
 * moved by the lifecycle rule `transition-to-intelligent-tiering` (infra/archive-bucket.ts), a
 * transition request billed at $0.01 per 1,000 objects: twice the PUT it follows. S3 stores an
 * object straight into Intelligent-Tiering when the upload names the class (`x-amz-storage-class`),
 * with no transition to pay. The workers' store named none. SDK edge, mocked.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, expect, it } from 'vitest';
import { archivingObjectStore } from '#compose/lambda-downloader.ts';
import { loadConfig } from '#shared/config.ts';

const REQUIRED = {
  ARCHIVE_BUCKET: 'archive',
  STATE_TABLE: 'state',
  WORK_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/work',
  SESSION_SECRET_ID: 'session',
};

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

it('uploads an archived photo straight into the class a day-0 lifecycle rule would move it to', async () => {
  const body = Buffer.from('a small HEIC photo');
  const md5 = createHash('md5').update(body).digest('hex');
  s3.on(PutObjectCommand).resolves({ ETag: `"${md5}"` });
  // The workers' store as composed with the stack's default (`ARCHIVE_STORAGE_CLASS`).
  const config = loadConfig({
    ...REQUIRED,
    ARCHIVE_STORAGE_CLASS: 'INTELLIGENT_TIERING',
    UPLOAD_QUEUE_SIZE: '1',
  });
  const store = archivingObjectStore(new S3Client({ region: 'us-east-1' }), config);

  await store.putStream('library/2024/01/01/IMG_0001.HEIC', Readable.from([body]), {
    contentType: 'image/heic',
    contentLength: body.length,
    lateMetadata: (digest) => ({ sha256: digest.sha256 }),
  });

  const puts = s3.commandCalls(PutObjectCommand);
  expect(puts).toHaveLength(1);
  // Each object that lands in STANDARD costs a lifecycle transition ($0.01/1,000): 75,000 for a
  // 50,000-photo first sync = $0.75 of its ~$3.00 in AWS, then ~750 a month.
  expect(puts[0]?.args[0].input.StorageClass).toBe('INTELLIGENT_TIERING');
});
