/**
 * The local S3 checks CopyObject's conditions on its source as Amazon S3 does
 * (functions/local/servers/s3-copy-object.ts): `x-amz-copy-source-if-match`, `-if-none-match`,
 * `-if-modified-since`, `-if-unmodified-since`; one that does not hold is `412
 * PreconditionFailed` and nothing is copied; two together follow S3's documented precedence.
 * The archive adapter's metadata copy names the ETag its upload completed with: it passes with
 * that ETag and a copy naming another is refused.
 */
import {
  CopyObjectCommand,
  type CopyObjectCommandInput,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { localS3ClientConfig } from '#local/servers/client-config.ts';
import { generatedStream } from '#test/fakes/generated-stream.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'conditions';
let local: LocalS3Bucket;
let client: S3Client;
let etag: string;
const HOUR = 3_600_000;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  client = local.client;
  etag =
    (await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'source', Body: 'bytes' }))).ETag ?? '';
});
afterAll(() => local.close());

const copy = (target: string, conditions: Partial<CopyObjectCommandInput>) =>
  client.send(
    new CopyObjectCommand({ Bucket: BUCKET, Key: target, CopySource: `${BUCKET}/source`, ...conditions }),
  );

async function status(send: Promise<unknown>): Promise<number | undefined> {
  return send.then(
    () => 200,
    (error: unknown) => {
      expect(error).toBeInstanceOf(S3ServiceException);
      return (error as S3ServiceException).$metadata.httpStatusCode;
    },
  );
}

const exists = (key: string) =>
  client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
    () => true,
    () => false,
  );

describe("CopyObject's conditions on the source", () => {
  it('if-match: copies with the source ETag, refuses another with 412 PreconditionFailed and copies nothing', async () => {
    expect(await status(copy('match/right', { CopySourceIfMatch: etag }))).toBe(200);
    const refused = await copy('match/wrong', {
      CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"',
    }).catch((error: S3ServiceException) => error);
    expect(refused).toBeInstanceOf(S3ServiceException);
    expect((refused as S3ServiceException).$metadata.httpStatusCode).toBe(412);
    expect((refused as S3ServiceException).name).toBe('PreconditionFailed');
    expect(await exists('match/wrong')).toBe(false);
  });

  it('if-none-match: refuses the source ETag, copies with another', async () => {
    expect(await status(copy('none/same', { CopySourceIfNoneMatch: etag }))).toBe(412);
    expect(await status(copy('none/other', { CopySourceIfNoneMatch: '"other"' }))).toBe(200);
  });

  it('if-unmodified-since and if-modified-since compare with the source Last-Modified', async () => {
    const past = new Date(Date.now() - HOUR);
    const later = new Date(Date.now() + HOUR);
    expect(await status(copy('dates/unmodified-past', { CopySourceIfUnmodifiedSince: past }))).toBe(412);
    expect(await status(copy('dates/unmodified-later', { CopySourceIfUnmodifiedSince: later }))).toBe(200);
    expect(await status(copy('dates/modified-past', { CopySourceIfModifiedSince: past }))).toBe(200);
    // A date in the future is ignored, as S3 does.
    expect(await status(copy('dates/modified-later', { CopySourceIfModifiedSince: later }))).toBe(200);
  });

  it("follows S3's precedence when two are given", async () => {
    const past = new Date(Date.now() - HOUR);
    // if-match true, if-unmodified-since false: S3 copies.
    expect(
      await status(copy('both/match', { CopySourceIfMatch: etag, CopySourceIfUnmodifiedSince: past })),
    ).toBe(200);
    // if-none-match false, if-modified-since true: S3 refuses.
    expect(
      await status(copy('both/none', { CopySourceIfNoneMatch: etag, CopySourceIfModifiedSince: past })),
    ).toBe(412);
  });
});

describe('the copy source', () => {
  it('is URL-decoded whole, as S3 does: a key with & + , ; = @ $ : # ? is found', async () => {
    const key = 'source/Tom & Jerry+1,2;a=b@c$d:e#f?g.MOV';
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'named' }));
    const encoded = key.split('/').map(encodeURIComponent).join('/');
    expect(await status(copy('decoded/copy', { CopySource: `${BUCKET}/${encoded}` }))).toBe(200);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'decoded/copy' }));
    expect(head.ContentLength).toBe('named'.length);
  });
});

describe("the archive adapter's metadata copy", () => {
  it('passes with the ETag its upload completed with', async () => {
    const store = new S3ArchivingObjectStore({
      client,
      bucket: BUCKET,
      partSize: MIN_PART_SIZE,
      queueSize: 1,
    });
    const size = MIN_PART_SIZE + 1;
    const result = await store.putStream('adapter/video.MOV', generatedStream(size).stream, {
      contentType: 'video/quicktime',
      contentLength: size,
      metadata: mtimeMetadata(0),
    });
    expect(result.multipart).toBe(true);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'adapter/video.MOV' }));
    expect(head.Metadata?.md5chksum).toBeDefined();
  });

  it("leaves another writer's newer object at the key when the copy is refused (412)", async () => {
    // Another worker (its transfer lease taken over after ours lapsed) completes its own version
    // of the key between our CompleteMultipartUpload and our copy: the copy is refused, and the
    // key must keep the other's version, not lose it to our clean-up's delete.
    const racing = new S3Client({ ...localS3ClientConfig(local.server.endpoint), maxAttempts: 1 });
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CopyObjectCommand')
          await client.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: 'adapter/raced.MOV', Body: 'the other writer' }),
          );
        return next(args);
      },
      { step: 'initialize', name: 'anotherWriterFirst' },
    );
    try {
      const store = new S3ArchivingObjectStore({
        client: racing,
        bucket: BUCKET,
        partSize: MIN_PART_SIZE,
        queueSize: 1,
      });
      const size = MIN_PART_SIZE + 1;
      const put = store.putStream('adapter/raced.MOV', generatedStream(size).stream, {
        contentType: 'video/quicktime',
        contentLength: size,
        metadata: mtimeMetadata(0),
      });
      await expect(put).rejects.toMatchObject({ name: 'PreconditionFailed' });
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'adapter/raced.MOV' }));
      expect(head.ContentLength).toBe('the other writer'.length);
    } finally {
      racing.destroy();
    }
  });
});
