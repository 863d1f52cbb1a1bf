import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import {
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ArchivingObjectStore, S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { localArchiveS3ClientConfig } from '#compose/local-aws-stack.ts';
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
  options: { client?: S3Client; listPageSize?: number; partSize?: number; queueSize?: number } = {},
) {
  const bucket = await local.createBucket();
  const client = options.client ?? local.s3;
  const store = new S3ObjectStore({
    client,
    bucket,
    listPageSize: options.listPageSize ?? 2,
    ...(options.partSize === undefined ? {} : { partSize: options.partSize }),
    ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }),
  });
  return { bucket, store };
}

describeObjectStoreContract('S3ObjectStore on s3rver', async (options) => (await newStore(options)).store);

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

    it("leaves another writer's object current when it landed before the take-back", async () => {
      // A worker whose transfer lease ran out completes; the one that took the lease over stores
      // the key (other bytes here, to tell them apart) before the first's copy fails.
      const client = new S3Client(local.aws.clientConfig.s3);
      const { bucket, store } = await newStore({ client, partSize: MIN_PART_SIZE, queueSize: 1 });
      let theirs: string | undefined;
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'CopyObjectCommand') {
            const input = args.input as { Key: string };
            theirs = (
              await local.s3.send(
                new PutObjectCommand({ Bucket: bucket, Key: input.Key, Body: 'the winner' }),
              )
            ).ETag;
            throw Object.assign(new Error('We encountered an internal error'), {
              name: 'InternalError',
              $metadata: { httpStatusCode: 500 },
            });
          }
          return next(args);
        },
        { step: 'initialize', name: 'anotherWriterFirst' },
      );
      try {
        await expect(put(store, 'copy/raced.MOV')).rejects.toMatchObject({ name: 'InternalError' });
        expect((await store.head('copy/raced.MOV'))?.etag).toBe(theirs?.replace(/"/g, ''));
      } finally {
        client.destroy();
      }
    });

    it('leaves its own copy in place when S3 applied it but its answer was lost', async () => {
      // The copy's ETag (the MD5 of the bytes) is not the ETag the upload completed with
      // (`<hex>-2`): the take-back's `If-Match` fails with 412 and the copy, md5chksum and all,
      // stays for the retry to adopt.
      const client = new S3Client(local.aws.clientConfig.s3);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== 'CopyObjectCommand') return next(args);
          await next(args);
          throw Object.assign(new Error('We encountered an internal error'), {
            name: 'InternalError',
            $metadata: { httpStatusCode: 500 },
          });
        },
        { step: 'initialize', name: 'loseCopyAnswer' },
      );
      try {
        const { store } = await newStore({ client, partSize: MIN_PART_SIZE, queueSize: 1 });
        await expect(put(store, 'copy/answer-lost.MOV')).rejects.toMatchObject({ name: 'InternalError' });
        const md5 = generatedDigest(MIN_PART_SIZE + 1, 'md5');
        const head = await store.head('copy/answer-lost.MOV');
        expect(head?.etag).toBe(md5);
        expect(head?.md5Base64).toBe(Buffer.from(md5, 'hex').toString('base64'));
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

describe("S3ArchivingObjectStore (the download workers' part)", () => {
  it('streams, heads and deletes as the whole store does, with no listing or reading back', async () => {
    const { bucket, store: whole } = await newStore();
    const store = new S3ArchivingObjectStore({ client: local.s3, bucket, partSize: MIN_PART_SIZE });
    expect('list' in store || 'getStream' in store).toBe(false);
    const size = MIN_PART_SIZE + 1;
    const { stream } = generatedStream(size);
    const result = await store.putStream('archiving/one.MOV', stream, {
      contentType: 'video/quicktime',
      contentLength: size,
      metadata: mtimeMetadata(1_700_000_000_000),
    });
    expect(result).toMatchObject({ size, md5: generatedDigest(size, 'md5'), multipart: true });
    expect(await store.head('archiving/one.MOV')).toEqual(await whole.head('archiving/one.MOV'));
    await store.delete('archiving/one.MOV');
    expect(await whole.head('archiving/one.MOV')).toBeUndefined();
  });
});

describe('S3ObjectStore.deleteMany', () => {
  it('deletes 2,500 keys in three DeleteObjects, each carrying the checksum S3 requires, with the archive client', async () => {
    const client = new S3Client(localArchiveS3ClientConfig(local.aws.endpoints.s3));
    const { store } = await newStore({ client });
    const keys = Array.from(
      { length: 2_500 },
      (_, i) => `catalog/journal/${String(i).padStart(4, '0')}.json`,
    );
    for (const key of [keys[0], keys[1_000], keys[2_499]])
      await store.putBytes(key ?? '', Buffer.from('x'), { contentType: 'application/json' });
    const requests: { method: string; path: string; integrity: boolean }[] = [];
    const onRequest = (message: unknown) => {
      const { request } = message as { request: ClientRequest };
      const headers = Object.keys(request.getHeaders());
      requests.push({
        method: request.method,
        path: request.path,
        integrity: headers.some((h) => h === 'content-md5' || h.startsWith('x-amz-checksum-')),
      });
    };
    subscribe('http.client.request.start', onRequest);
    try {
      await store.deleteMany(keys);
    } finally {
      unsubscribe('http.client.request.start', onRequest);
      client.destroy();
    }
    expect(requests).toHaveLength(3);
    for (const request of requests) expect(request).toMatchObject({ method: 'POST', integrity: true });
    expect(requests.every((r) => r.path.includes('?delete'))).toBe(true);
    expect(await store.head(keys[1_000] ?? '')).toBeUndefined();
  });

  it('fails naming the keys S3 reported it could not delete', async () => {
    const client = new S3Client(localArchiveS3ClientConfig(local.aws.endpoints.s3));
    const { store } = await newStore({ client });
    // S3 answers 200 with an <Error> per key it could not delete (AccessDenied, InternalError).
    client.middlewareStack.add(
      () => async () => ({
        output: {
          $metadata: { httpStatusCode: 200 },
          Errors: [{ Key: 'catalog/journal/b.json', Code: 'InternalError', Message: 'try again' }],
        },
        response: {},
      }),
      { step: 'initialize', name: 'answerWithPerKeyErrors' },
    );
    try {
      await expect(store.deleteMany(['catalog/journal/a.json', 'catalog/journal/b.json'])).rejects.toThrow(
        /1 of 2 .*catalog\/journal\/b\.json.*InternalError/,
      );
    } finally {
      client.destroy();
    }
  });
});
