/**
 * The part size of a streamed put against the local S3: S3 takes at most 10,000 parts, so a body
 * larger than 10,000 configured parts goes up in larger ones, and a body larger than S3's largest
 * object is refused before a byte of it is read. Nothing here streams the whole body: the put is
 * aborted once its first part has been sent, which is all the size choice shows in.
 */
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { classifyError } from '#domain/errors.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { MAX_OBJECT_BYTES } from '#ports/object-store.ts';
import { generatedStream } from '#test/fakes/generated-stream.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

const MIB = 1024 * 1024;

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

/** A store on a client of its own that calls `onPart` with each UploadPart's byte count, before sending it. */
async function storeSeeingParts(partSize: number, queueSize: number, onPart: (bytes: number) => void) {
  const client = new S3Client(local.aws.clientConfig.s3);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UploadPartCommand') onPart((args.input as { Body: Buffer }).Body.length);
      return next(args);
    },
    { step: 'initialize', name: 'seeParts' },
  );
  const bucket = await local.createBucket();
  return { client, bucket, store: new S3ArchivingObjectStore({ client, bucket, partSize, queueSize }) };
}

describe('S3ArchivingObjectStore part size', () => {
  it('sends a body just over 10,000 configured parts in parts large enough for 10,000, in whole MiB', async () => {
    const controller = new AbortController();
    const parts: number[] = [];
    const { client, bucket, store } = await storeSeeingParts(MIN_PART_SIZE, 4, (bytes) => {
      parts.push(bytes);
      controller.abort();
    });
    // 10,000 x 5 MiB + 1 byte: 5 MiB parts would need 10,001; the smallest whole-MiB size that fits is 6 MiB.
    const size = 10_000 * MIN_PART_SIZE + 1;
    const { stream } = generatedStream(size);
    try {
      const put = store.putStream('big/over-10000-parts.MOV', stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: mtimeMetadata(0),
        signal: controller.signal,
      });
      await expect(put).rejects.toMatchObject({ name: 'AbortError' });
      expect(parts[0]).toBe(6 * MIB);
      const uploads = await local.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(uploads.Uploads ?? []).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('keeps the configured part size for a body that fits 10,000 of them', async () => {
    const controller = new AbortController();
    const parts: number[] = [];
    const { client, store } = await storeSeeingParts(MIN_PART_SIZE, 4, (bytes) => {
      parts.push(bytes);
      controller.abort();
    });
    const size = 10_000 * MIN_PART_SIZE;
    try {
      const put = store.putStream('big/exactly-10000-parts.MOV', generatedStream(size).stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: mtimeMetadata(0),
        signal: controller.signal,
      });
      await expect(put).rejects.toMatchObject({ name: 'AbortError' });
      expect(parts[0]).toBe(MIN_PART_SIZE);
    } finally {
      client.destroy();
    }
  });

  it('refuses a body larger than S3 stores in one object before reading a byte of it, for good', async () => {
    const parts: number[] = [];
    const { client, store } = await storeSeeingParts(MIN_PART_SIZE, 4, (bytes) => parts.push(bytes));
    const size = MAX_OBJECT_BYTES + 1;
    const { stream, produced } = generatedStream(size);
    try {
      const put = store.putStream('big/too-large.MOV', stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: mtimeMetadata(0),
      });
      const error = await put.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: 'ObjectTooLargeError' });
      expect(classifyError(error)).toBe('fatal');
      expect(produced()).toBe(0);
      expect(parts).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});
