/**
 * A body S3 received other than it was sent (S3 answers `400 BadDigest` against the Content-MD5
 * the archive's adapter sends) is a fault of the transfer, not a verdict on the photo: the error
 * must classify retryable, so the work message goes back to the queue and the next delivery
 * downloads and uploads again. Classified fatal, the entry was marked `failed` and no scheduled
 * run would ever archive the photo. Through the real adapter (`S3ArchivingObjectStore`), a real
 * S3Client and the local S3, which verifies Content-MD5 as S3 does; the corruption is a byte
 * flipped after the adapter hashed the body, by a middleware standing for the network.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { classifyError } from '#domain/errors.ts';
import { localS3ClientConfig } from '#local/servers/client-config.ts';
import { type LocalS3Server, startS3Server } from '#local/servers/s3-server.ts';

const BUCKET = 'archive';
let dir: string;
let server: LocalS3Server;
let client: S3Client;
let corruptNext = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-corrupted-upload-'));
  server = await startS3Server({ directory: dir });
  client = new S3Client({ ...localS3ClientConfig(server.endpoint), maxAttempts: 1 });
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
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  client.destroy();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

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
