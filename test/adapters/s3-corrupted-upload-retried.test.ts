import { Readable } from 'node:stream';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { classifyError } from '#domain/errors.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
let local: LocalS3Bucket;
let client: S3Client;
let corruptNext = 0;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  client = local.client;
  // The network: flips one byte of the next `corruptNext` request bodies, after signing.
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown };
      if (corruptNext > 0 && request.body instanceof Uint8Array && request.body.byteLength > 0) {
        corruptNext--;
        const flipped = Buffer.from(request.body);
        flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] ?? 0) ^ 0xff;
        request.body = flipped;
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: 'corruptingNetwork', priority: 'low' },
  );
});
afterAll(() => local.close());

describe('an upload S3 received corrupted (BadDigest)', () => {
  it('fails the put, stores nothing, classifies retryable, and the next attempt archives it', async () => {
    const store = new S3ArchivingObjectStore({ client, bucket: BUCKET });
    const bytes = Buffer.alloc(300_000, 7);
    const put = () =>
      store.putStream('library/2024/IMG_0001.HEIC', Readable.from([bytes]), {
        contentType: 'image/heic',
        contentLength: bytes.length,
      });

    corruptNext = 1;
    const error = await put().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { name?: string } | undefined)?.name).toBe('BadDigest');
    await expect(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'library/2024/IMG_0001.HEIC' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    expect(classifyError(error)).toBe('retryable');

    const stored = await put();
    expect(stored.size).toBe(bytes.length);
    expect(stored.etag).toBe(stored.md5);
  });
});
