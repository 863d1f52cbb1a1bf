/**
 * A video larger than one CopyObject can rewrite (5 GiB on S3; here a 10 MiB limit and a 12 MiB
 * video in 5 MiB parts, against the local S3). Its multipart upload starts tagged as staging
 * (`MULTIPART_COPY_STAGING_TAG`) with the up-front metadata only; the late metadata (`sha256`, `md5chksum`) and
 * the tag's removal come from a rewrite onto the same key. Without one, the archived version kept
 * the staging tag, which the lifecycle rule expires one day after it becomes noncurrent (not the
 * undo window), and no retry could adopt it for want of its hashes.
 */
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { MULTIPART_COPY_STAGING_TAG, STAGING_TAG } from '#shared/env-names.ts';
import { generatedDigest, generatedStream } from '#test/fakes/generated-stream.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
const MAX_COPY_BYTES = 10 * 1024 * 1024;
const SIZE = 12 * 1024 * 1024 + 12_345;
let local: LocalS3Bucket;
let client: S3Client;
/** The commands the store sent, by name. */
const sent: string[] = [];
/** Runs before the next UploadPartCopy is sent (another writer landing mid-copy). */
let beforePartCopy: ((key: string) => Promise<void>) | undefined;
/** How many UploadPart bodies the network corrupts next (after the SDK computed their checksum). */
let corruptParts = 0;
/** The next completion of a multipart copy is applied by S3 but its answer lost. */
let loseCopyCompletion = false;
/** Each UploadPart's `x-amz-checksum-crc32`, or '' without one. */
const partChecksums: string[] = [];
/** The `Tagging` each CreateMultipartUpload started with ('' for none). */
const uploadTags: string[] = [];

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  client = local.client;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? '');
      if (context.commandName === 'CreateMultipartUploadCommand')
        uploadTags.push((args.input as { Tagging?: string }).Tagging ?? '');
      if (context.commandName === 'UploadPartCopyCommand' && beforePartCopy !== undefined) {
        const before = beforePartCopy;
        beforePartCopy = undefined;
        await before((args.input as { Key: string }).Key);
      }
      const copyCompletion =
        context.commandName === 'CompleteMultipartUploadCommand' && sent.includes('UploadPartCopyCommand');
      const result = await next(args);
      if (copyCompletion && loseCopyCompletion) {
        loseCopyCompletion = false;
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
      }
      return result;
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { body?: unknown; headers?: Record<string, string> };
      if (context.commandName === 'UploadPartCommand') {
        partChecksums.push(request.headers?.['x-amz-checksum-crc32'] ?? '');
        if (corruptParts > 0 && request.body instanceof Uint8Array && request.body.byteLength > 0) {
          corruptParts--;
          const flipped = Buffer.from(request.body);
          flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] ?? 0) ^ 0xff;
          request.body = flipped;
        }
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: 'corruptingNetwork', priority: 'low' },
  );
});
afterAll(() => local.close());

const store = () =>
  new S3ArchivingObjectStore({
    client,
    bucket: BUCKET,
    partSize: MIN_PART_SIZE,
    queueSize: 2,
    maxCopyBytes: MAX_COPY_BYTES,
  });
const put = (key: string) =>
  store().putStream(key, generatedStream(SIZE).stream, {
    contentType: 'video/quicktime',
    contentLength: SIZE,
    metadata: { mtime: '1700000000' },
    lateMetadata: (digest) => ({ sha256: digest.sha256 }),
  });
const tagsOf = async (key: string) =>
  (await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet ?? [];
const openUploads = async () =>
  (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('a video over the copy limit', () => {
  it('starts its upload with the staging tag of a multipart copy, which the lifecycle expires a day after the copy', async () => {
    // Not STAGING_TAG: over 5 GiB that tag also marks videos archived before the copy existed,
    // which the lifecycle rule must leave the undo window (test/infra/lifecycle-expiry.test.ts).
    uploadTags.length = 0;
    await put('library/2026/IMG_0100.MOV');
    expect(uploadTags[0]).toBe(`${MULTIPART_COPY_STAGING_TAG.key}=${MULTIPART_COPY_STAGING_TAG.value}`);
    // The copy's own upload carries no tag at all.
    expect(uploadTags[1]).toBe('');
  });

  it('is archived with its late metadata and without the staging tag', async () => {
    const key = 'library/2024/IMG_0100.MOV';
    const result = await put(key);

    expect((await tagsOf(key)).map((tag) => tag.Key)).not.toContain(STAGING_TAG.key);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(SIZE);
    expect(head.ContentType).toBe('video/quicktime');
    expect(head.Metadata).toEqual({
      mtime: '1700000000',
      sha256: generatedDigest(SIZE, 'sha256'),
      md5chksum: Buffer.from(generatedDigest(SIZE, 'md5'), 'hex').toString('base64'),
    });
    expect(result).toMatchObject({ md5: generatedDigest(SIZE, 'md5'), multipart: true });
    // The put's ETag is the version it made current: the rewrite's.
    expect(result.etag).toBe(head.ETag?.replaceAll('"', ''));
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
    expect(createHash('md5').update(bytes).digest('hex')).toBe(generatedDigest(SIZE, 'md5'));
    expect(await openUploads()).toEqual([]);
  });

  it("copies nothing over another writer's version that landed meanwhile, and leaves it current", async () => {
    const key = 'library/2024/IMG_0101.MOV';
    let landing: Promise<{ ETag?: string }> | undefined;
    beforePartCopy = async (copied) => {
      landing = client.send(new PutObjectCommand({ Bucket: BUCKET, Key: copied, Body: 'the winner' }));
      await landing;
    };
    const error = await rejection(put(key));
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 412 } });
    // Another part copy can meet the winner's version (412) before this put has answered.
    const theirs = (await landing)?.ETag;
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ETag).toBe(theirs);
    expect(await openUploads()).toEqual([]);
  });

  it('aborts its copy and takes its upload back when the put is aborted during the copy', async () => {
    const key = 'library/2024/IMG_0102.MOV';
    const controller = new AbortController();
    beforePartCopy = async () => controller.abort(new Error('lease lost'));
    const error = await rejection(
      store().putStream(key, generatedStream(SIZE).stream, {
        contentType: 'video/quicktime',
        contentLength: SIZE,
        signal: controller.signal,
      }),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    const head = await client
      .send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))
      .catch((failure: unknown) => failure);
    expect(head).toMatchObject({ $metadata: { httpStatusCode: 404 } });
    expect(await openUploads()).toEqual([]);
  });

  it('leaves the copy S3 completed though its answer was lost: it has the hashes a retry adopts it by', async () => {
    const key = 'library/2024/IMG_0105.MOV';
    sent.length = 0;
    loseCopyCompletion = true;
    const error = await rejection(put(key));
    expect(error).toMatchObject({ message: 'socket hang up' });
    // The take-back named the upload's ETag (If-Match): the copy, current, is not deleted.
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(SIZE);
    expect(head.Metadata).toMatchObject({
      sha256: generatedDigest(SIZE, 'sha256'),
      md5chksum: Buffer.from(generatedDigest(SIZE, 'md5'), 'hex').toString('base64'),
    });
    expect(await tagsOf(key)).toEqual([]);
    expect(await openUploads()).toEqual([]);
  });

  it('copies in ranges no larger than the limit allows', async () => {
    sent.length = 0;
    await put('library/2024/IMG_0103.MOV');
    expect(sent.filter((name) => name === 'UploadPartCopyCommand').length).toBeGreaterThanOrEqual(2);
    expect(sent).not.toContain('CopyObjectCommand');
  });

  it('sends a CRC32 with every part, so S3 refuses a part changed on the way and nothing is archived', async () => {
    // No single copy follows, whose ETag would show S3 stored other bytes: each part is checked
    // on arrival instead.
    const key = 'library/2024/IMG_0104.MOV';
    partChecksums.length = 0;
    corruptParts = 1;
    const error = await rejection(put(key));
    expect(error).toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
    expect(partChecksums.length).toBeGreaterThan(0);
    expect(partChecksums.every((checksum) => /^[A-Za-z0-9+/]{6}==$/.test(checksum))).toBe(true);
    const head = await client
      .send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))
      .catch((failure: unknown) => failure);
    expect(head).toMatchObject({ $metadata: { httpStatusCode: 404 } });
    expect(await openUploads()).toEqual([]);
  });
});
