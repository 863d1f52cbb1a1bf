import { createHash } from 'node:crypto';
import { GetObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTransientPartFailure, uploadMultipart } from '#adapters/aws/s3-multipart-upload.ts';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { generatedDigest, generatedStream } from '#test/fakes/generated-stream.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

/** A client on s3rver whose UploadPart requests pass through `onPart` first (it may throw). */
function clientWithParts(onPart: (input: { PartNumber: number; ContentLength: number }) => void) {
  const client = new S3Client(local.aws.clientConfig.s3);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UploadPartCommand')
        onPart(args.input as { PartNumber: number; ContentLength: number });
      return next(args);
    },
    { step: 'initialize', name: 'watchParts' },
  );
  return client;
}

async function storedMd5(bucket: string, key: string): Promise<string> {
  const object = await local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('md5');
  for await (const chunk of object.Body as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

describe('uploadMultipart', () => {
  it('sends parts of exactly the part size from chunks that do not line up with them', async () => {
    const bucket = await local.createBucket();
    const parts: { PartNumber: number; ContentLength: number }[] = [];
    const client = clientWithParts((p) =>
      parts.push({ PartNumber: p.PartNumber, ContentLength: p.ContentLength }),
    );
    const size = 2 * MIN_PART_SIZE + 12_345;
    try {
      await uploadMultipart({
        client,
        params: { Bucket: bucket, Key: 'parts/odd.MOV' },
        // 100 000-byte chunks: the part boundaries fall inside chunks.
        body: generatedStream(size, { chunkSize: 100_000 }).stream,
        partSize: MIN_PART_SIZE,
        queueSize: 2,
      });
      expect(parts.sort((a, b) => a.PartNumber - b.PartNumber)).toEqual([
        { PartNumber: 1, ContentLength: MIN_PART_SIZE },
        { PartNumber: 2, ContentLength: MIN_PART_SIZE },
        { PartNumber: 3, ContentLength: 12_345 },
      ]);
      expect(await storedMd5(bucket, 'parts/odd.MOV')).toBe(generatedDigest(size, 'md5'));
    } finally {
      client.destroy();
    }
  });

  it('sends no empty last part when the body ends on a part boundary', async () => {
    const bucket = await local.createBucket();
    const parts: number[] = [];
    const client = clientWithParts((p) => parts.push(p.ContentLength));
    try {
      await uploadMultipart({
        client,
        params: { Bucket: bucket, Key: 'parts/even.MOV' },
        body: generatedStream(2 * MIN_PART_SIZE).stream,
        partSize: MIN_PART_SIZE,
        queueSize: 1,
      });
      expect(parts).toEqual([MIN_PART_SIZE, MIN_PART_SIZE]);
    } finally {
      client.destroy();
    }
  });

  it('retries a part whose connection dropped, from its chunks, and stores the right bytes', async () => {
    const bucket = await local.createBucket();
    let failures = 0;
    const client = clientWithParts((p) => {
      if (p.PartNumber === 2 && failures === 0) {
        failures++;
        throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
      }
    });
    const size = 3 * MIN_PART_SIZE;
    try {
      await uploadMultipart({
        client,
        params: { Bucket: bucket, Key: 'parts/retried.MOV' },
        body: generatedStream(size).stream,
        partSize: MIN_PART_SIZE,
        queueSize: 2,
        retryPolicy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 },
      });
      expect(failures).toBe(1);
      expect(await storedMd5(bucket, 'parts/retried.MOV')).toBe(generatedDigest(size, 'md5'));
    } finally {
      client.destroy();
    }
  });

  it('aborts the upload on a part S3 refuses, leaving no upload behind', async () => {
    const bucket = await local.createBucket();
    let attempts = 0;
    const client = clientWithParts((p) => {
      if (p.PartNumber === 2) {
        attempts++;
        throw Object.assign(new Error('Access Denied'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
      }
    });
    try {
      await expect(
        uploadMultipart({
          client,
          params: { Bucket: bucket, Key: 'parts/refused.MOV' },
          body: generatedStream(4 * MIN_PART_SIZE).stream,
          partSize: MIN_PART_SIZE,
          queueSize: 1,
        }),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
      expect(attempts).toBe(1);
      const uploads = await local.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(uploads.Uploads ?? []).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('retries only what may pass on a second try', () => {
    const status = (httpStatusCode: number, name = 'Error') =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
    expect(isTransientPartFailure(new Error('socket hang up'))).toBe(true);
    expect(isTransientPartFailure(status(500, 'InternalError'))).toBe(true);
    expect(isTransientPartFailure(status(503, 'SlowDown'))).toBe(true);
    expect(isTransientPartFailure(status(400, 'RequestTimeout'))).toBe(true);
    expect(isTransientPartFailure(status(403, 'AccessDenied'))).toBe(false);
    expect(isTransientPartFailure(status(404, 'NoSuchUpload'))).toBe(false);
    expect(isTransientPartFailure(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe(false);
  });
});
