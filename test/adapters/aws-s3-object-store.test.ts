import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffThreadDigester } from '#adapters/aws/off-thread-digest.ts';
import { MIN_PART_SIZE, S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { ContentLengthMismatchError } from '#domain/errors.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { describeObjectStoreContract } from '#test/fakes/contracts/object-store-contract.ts';
import { generatedDigest, generatedStream } from '#test/fakes/generated-stream.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

async function newStore(
  options: {
    client?: S3Client;
    listPageSize?: number;
    partSize?: number;
    queueSize?: number;
    wholeBodyDigester?: OffThreadDigester;
  } = {},
) {
  const bucket = await local.createBucket();
  const client = options.client ?? local.s3;
  const store = new S3ObjectStore({
    client,
    bucket,
    listPageSize: options.listPageSize ?? 2,
    ...(options.partSize === undefined ? {} : { partSize: options.partSize }),
    ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }),
    ...(options.wholeBodyDigester === undefined ? {} : { wholeBodyDigester: options.wholeBodyDigester }),
  });
  return { bucket, store };
}

describeObjectStoreContract('S3ObjectStore on s3rver', async (options) => (await newStore(options)).store);

// Every single put hashed off the event loop (the local runtime's setting, from 1 byte on here).
const offThread = new OffThreadDigester({ minBytes: 1 });
describeObjectStoreContract(
  'S3ObjectStore on s3rver, single puts hashed off the event loop',
  async (options) => (await newStore({ ...options, wholeBodyDigester: offThread })).store,
);

/** The real digester, counting the bodies handed to it. */
class CountedDigester extends OffThreadDigester {
  readonly lengths: number[] = [];
  override digest(bytes: Uint8Array) {
    this.lengths.push(bytes.byteLength);
    return super.digest(bytes);
  }
}

describe('S3ObjectStore with single puts hashed off the event loop', () => {
  const size = 1_600_000;
  const put = (store: S3ObjectStore, key: string, length = size, body = generatedStream(size).stream) =>
    store.putStream(key, body, {
      contentType: 'image/jpeg',
      contentLength: length,
      metadata: mtimeMetadata(1_700_000_000_000),
      lateMetadata: ({ sha256 }) => ({ sha256 }),
    });

  it('stores the same object, metadata and digests as the inline hashing does', async () => {
    const inline = await newStore();
    const digester = new CountedDigester({ minBytes: 1024 });
    const off = await newStore({ wholeBodyDigester: digester });
    const [a, b] = [await put(inline.store, 'a/IMG_1.JPG'), await put(off.store, 'a/IMG_1.JPG')];
    expect(b).toEqual({ ...a });
    // Hashed by the digester, once; a body below its minimum is hashed inline by the meter.
    expect(digester.lengths).toEqual([size]);
    await put(off.store, 'a/tiny.JPG', 1023, generatedStream(1023).stream);
    expect(digester.lengths).toEqual([size]);
    expect(b).toMatchObject({
      size,
      md5: generatedDigest(size, 'md5'),
      sha256: generatedDigest(size, 'sha256'),
      etag: generatedDigest(size, 'md5'),
      multipart: false,
    });
    const heads = [await inline.store.head('a/IMG_1.JPG'), await off.store.head('a/IMG_1.JPG')];
    expect(heads[1]?.metadata).toEqual(heads[0]?.metadata);
    expect(heads[1]?.metadata).toMatchObject({
      mtime: '1700000000',
      md5chksum: Buffer.from(generatedDigest(size, 'md5'), 'hex').toString('base64'),
      sha256: generatedDigest(size, 'sha256'),
    });
  });

  it('refuses a body shorter or longer than declared and stores nothing', async () => {
    const digester = new CountedDigester({ minBytes: 1024 });
    const { store } = await newStore({ wholeBodyDigester: digester });
    await expect(put(store, 'short.JPG', size + 1)).rejects.toBeInstanceOf(ContentLengthMismatchError);
    await expect(put(store, 'long.JPG', size - 1)).rejects.toBeInstanceOf(ContentLengthMismatchError);
    // Refused before any hashing: neither body reached the digester.
    expect(digester.lengths).toEqual([]);
    expect(await store.head('short.JPG')).toBeUndefined();
    expect(await store.head('long.JPG')).toBeUndefined();
  });
});

describe('S3ObjectStore', () => {
  it('streams a 30 MB body without reading far ahead of what S3 acknowledged', async () => {
    // A client of its own so the byte counter sees only this upload's parts.
    const client = new S3Client(local.aws.clientConfig.s3);
    let acknowledged = 0;
    let maxAhead = 0;
    const size = 30 * 1024 * 1024;
    const { stream, produced } = generatedStream(size);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'UploadPartCommand') {
          acknowledged += (args.input as { Body: Buffer }).Body.length;
        }
        return result;
      },
      { step: 'initialize', name: 'countAcknowledgedParts' },
    );
    const sampler = setInterval(() => {
      maxAhead = Math.max(maxAhead, produced() - acknowledged);
    }, 2);
    try {
      const { store } = await newStore({ client, partSize: MIN_PART_SIZE, queueSize: 2 });
      const result = await store.putStream('stream/30MB.MOV', stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: mtimeMetadata(1_700_000_000_000),
      });
      expect(result).toMatchObject({ size, md5: generatedDigest(size, 'md5'), multipart: true });
      expect(acknowledged).toBe(size);
      // queueSize parts in flight, one being filled, plus stream buffers: far below 30 MB.
      expect(maxAhead).toBeLessThanOrEqual(4 * MIN_PART_SIZE);
    } finally {
      clearInterval(sampler);
      client.destroy();
    }
  });

  it('leaves no multipart upload behind when aborted mid-upload', async () => {
    const { bucket, store } = await newStore({ partSize: MIN_PART_SIZE, queueSize: 1 });
    const size = MIN_PART_SIZE * 4;
    const { stream, produced } = generatedStream(size, { stallAfter: MIN_PART_SIZE * 2 + 1 });
    const controller = new AbortController();
    const put = store.putStream('abort/mid.MOV', stream, {
      contentType: 'video/quicktime',
      contentLength: size,
      metadata: mtimeMetadata(0),
      signal: controller.signal,
    });
    while (produced() <= MIN_PART_SIZE * 2) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(put).rejects.toMatchObject({ name: 'AbortError' });
    const uploads = await local.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(await store.head('abort/mid.MOV')).toBeUndefined();
  });

  it('writes metadata exactly as rclone reads it on HEAD', async () => {
    const { bucket, store } = await newStore();
    const size = 1000;
    await store.putStream('rclone/IMG_0002.JPG', generatedStream(size).stream, {
      contentType: 'image/jpeg',
      contentLength: size,
      metadata: { ...mtimeMetadata(1_717_243_200_123), 'icloud-asset': 'ASSET-1' },
    });
    const head = await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'rclone/IMG_0002.JPG' }));
    const md5 = generatedDigest(size, 'md5');
    expect(head.ETag).toBe(`"${md5}"`);
    expect(head.Metadata).toEqual({
      mtime: '1717243200.123',
      md5chksum: Buffer.from(md5, 'hex').toString('base64'),
      'icloud-asset': 'ASSET-1',
    });
  });

  it('refuses metadata S3 would mangle before sending anything', async () => {
    const { store } = await newStore();
    await expect(
      store.putStream('bad.jpg', generatedStream(1).stream, {
        contentType: 'image/jpeg',
        contentLength: 1,
        metadata: { ...mtimeMetadata(0), 'Icloud-Asset': 'x' },
      }),
    ).rejects.toMatchObject({ name: 'InvalidInputError' });
  });

  describe('when the metadata copy after a multipart upload fails', () => {
    /** A client on which CopyObject fails, and DeleteObject answers as `deleteAnswer` says. */
    function failingCopyClient(deleteAnswer: 'allowed' | 'accessDenied') {
      const client = new S3Client(local.aws.clientConfig.s3);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'CopyObjectCommand')
            throw Object.assign(new Error('We encountered an internal error'), {
              name: 'InternalError',
              $metadata: { httpStatusCode: 500 },
            });
          if (context.commandName === 'DeleteObjectCommand' && deleteAnswer === 'accessDenied')
            throw Object.assign(new Error('Access Denied'), {
              name: 'AccessDenied',
              $fault: 'client',
              $metadata: { httpStatusCode: 403 },
            });
          return next(args);
        },
        { step: 'initialize', name: 'failCopy' },
      );
      return client;
    }
    const put = (store: S3ObjectStore, key: string) => {
      const size = MIN_PART_SIZE + 1;
      return store.putStream(key, generatedStream(size).stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: mtimeMetadata(0),
      });
    };

    it('takes the completed object back', async () => {
      const client = failingCopyClient('allowed');
      try {
        const { store } = await newStore({ client, partSize: MIN_PART_SIZE, queueSize: 1 });
        await expect(put(store, 'copy/fails.MOV')).rejects.toMatchObject({ name: 'InternalError' });
        expect(await store.head('copy/fails.MOV')).toBeUndefined();
      } finally {
        client.destroy();
      }
    });

    it('reports the copy failure, not the refused delete, when the role may not delete (keep)', async () => {
      const client = failingCopyClient('accessDenied');
      try {
        const { store } = await newStore({ client, partSize: MIN_PART_SIZE, queueSize: 1 });
        await expect(put(store, 'copy/kept.MOV')).rejects.toMatchObject({ name: 'InternalError' });
        // The staged version stays, without md5chksum: nothing adopts it as archived.
        const head = await store.head('copy/kept.MOV');
        expect(head?.md5Base64).toBeUndefined();
      } finally {
        client.destroy();
      }
    });
  });
});
