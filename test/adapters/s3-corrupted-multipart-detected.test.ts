/**
 * A video's part changed on the way to S3 (no part carries a digest without Object Lock): the
 * metadata copy's ETag, S3's MD5 of the bytes it stored, differs from the MD5 the store hashed
 * while streaming. The put must fail retryable and leave nothing corrupt current.
 */
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { verifiedCopy } from '#domain/archive/verified-copy.ts';
import { classifyError } from '#domain/errors.ts';
import { STAGING_TAG } from '#shared/env-names.ts';
import { generatedDigest, generatedStream } from '#test/fakes/generated-stream.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
const SIZE = MIN_PART_SIZE + 300_000;
let local: LocalS3Bucket;
let client: S3Client;
/** How many UploadPart bodies the network corrupts next. */
let corruptParts = 0;
/** Rewrites the next CopyObject answer (an encrypted bucket's, which the local S3 does not model). */
let copyAnswer: ((output: Record<string, unknown>) => void) | undefined;
/** The worker's role may not delete (the `keep` policy): DeleteObject answers 403. */
let denyDeletes = false;
/** Runs after the next CopyObject was applied, before its answer reaches the store. */
let afterCopy: ((key: string) => Promise<void>) | undefined;
/** Staging a corrupt copy again (`unmark`: the copy that sets the staging tag) fails with a 500. */
let failUnmark = false;
/** Rewrites the next HeadObject answer (an encrypted bucket's, which the local S3 does not model). */
let headAnswer: ((output: Record<string, unknown>) => void) | undefined;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  client = local.client;
  // The network: flips one byte of an UploadPart body after the store hashed it.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { body?: unknown };
      if (
        context.commandName === 'UploadPartCommand' &&
        corruptParts > 0 &&
        request.body instanceof Uint8Array &&
        request.body.byteLength > 0
      ) {
        corruptParts--;
        const flipped = Buffer.from(request.body);
        flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] ?? 0) ^ 0xff;
        request.body = flipped;
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: 'corruptingNetwork', priority: 'low' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'DeleteObjectCommand' && denyDeletes)
        throw Object.assign(new Error('Access Denied'), {
          name: 'AccessDenied',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
        });
      if (
        context.commandName === 'CopyObjectCommand' &&
        failUnmark &&
        (args.input as { Tagging?: string }).Tagging
      )
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      const result = await next(args);
      if (context.commandName === 'HeadObjectCommand') {
        const rewriteHead = headAnswer;
        headAnswer = undefined;
        rewriteHead?.(result.output as unknown as Record<string, unknown>);
      }
      if (context.commandName !== 'CopyObjectCommand') return result;
      const rewrite = copyAnswer;
      const after = afterCopy;
      copyAnswer = undefined;
      afterCopy = undefined;
      rewrite?.(result.output as unknown as Record<string, unknown>);
      await after?.((args.input as { Key: string }).Key);
      return result;
    },
    { step: 'initialize', name: 'copyAnswer' },
  );
});
afterAll(() => local.close());

const store = () =>
  new S3ArchivingObjectStore({ client, bucket: BUCKET, partSize: MIN_PART_SIZE, queueSize: 1 });
const put = (key: string) =>
  store().putStream(key, generatedStream(SIZE).stream, {
    contentType: 'video/quicktime',
    contentLength: SIZE,
  });
const head = (key: string) =>
  client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).catch((error: unknown) => error);
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('a multipart upload S3 stored other bytes of (a part corrupted on the way)', () => {
  it('fails the put retryable, leaves nothing current, and the next attempt archives it', async () => {
    const key = 'library/2024/IMG_0002.MOV';
    corruptParts = 1;
    const error = await rejection(put(key));
    expect(error).toMatchObject({ name: 'UploadDigestMismatchError' });
    expect(classifyError(error)).toBe('retryable');
    expect(await head(key)).toMatchObject({ $metadata: { httpStatusCode: 404 } });

    const stored = await put(key);
    const md5 = generatedDigest(SIZE, 'md5');
    expect(stored.md5).toBe(md5);
    expect(stored.etag).toBe(md5);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
    expect(bytes.length).toBe(SIZE);
    expect(createHash('md5').update(bytes).digest('hex')).toBe(md5);
  });

  it("takes back only the corrupt copy: another writer's version that landed after it stays", async () => {
    const key = 'library/2024/IMG_0003.MOV';
    let theirs: string | undefined;
    corruptParts = 1;
    afterCopy = async (copied) => {
      theirs = (await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: copied, Body: 'the winner' })))
        .ETag;
    };
    const error = await rejection(put(key));
    expect(error).toMatchObject({ name: 'UploadDigestMismatchError' });
    expect(await head(key)).toMatchObject({ ETag: theirs });
  });
});

describe('a corrupt multipart upload when the role may not delete (keep)', () => {
  it('leaves the corrupt copy without md5chksum, so no retry adopts it, and the next put archives it', async () => {
    const key = 'library/2024/IMG_0004.MOV';
    corruptParts = 1;
    denyDeletes = true;
    try {
      const error = await rejection(put(key));
      expect(error).toMatchObject({ name: 'UploadDigestMismatchError' });
      const left = await head(key);
      expect(left).toMatchObject({ $metadata: { httpStatusCode: 200 } });
      expect((left as { Metadata?: Record<string, string> }).Metadata?.md5chksum).toBeUndefined();
      // Staged again: the lifecycle rule expires it once the retry's put supersedes it.
      const tags = await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
      expect(tags.TagSet).toEqual([{ Key: STAGING_TAG.key, Value: STAGING_TAG.value }]);
    } finally {
      denyDeletes = false;
    }
    const stored = await put(key);
    expect(stored.etag).toBe(generatedDigest(SIZE, 'md5'));
  });

  it('leaves a corrupt copy whose MD5 ETag is not its md5chksum when staging it again fails too: no retry adopts it', async () => {
    const key = 'library/2024/IMG_0005.MOV';
    corruptParts = 1;
    denyDeletes = true;
    failUnmark = true;
    try {
      const error = await rejection(put(key));
      expect(error).toMatchObject({ name: 'UploadDigestMismatchError' });
    } finally {
      denyDeletes = false;
      failUnmark = false;
    }
    const left = await store().head(key);
    expect(left?.md5Base64).toBe(Buffer.from(generatedDigest(SIZE, 'md5'), 'hex').toString('base64'));
    expect(left?.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(left?.etag).not.toBe(generatedDigest(SIZE, 'md5'));
    expect(left && verifiedCopy(left, SIZE)).toBeUndefined();
  });
});

describe('a head of an encrypted object', () => {
  it.each([
    ['aws:kms', { ServerSideEncryption: 'aws:kms' }, 'sse-kms'],
    ['aws:kms:dsse', { ServerSideEncryption: 'aws:kms:dsse' }, 'dsse-kms'],
    ['SSE-C', { ServerSideEncryption: 'AES256', SSECustomerAlgorithm: 'AES256' }, 'sse-c'],
    ['AES256', { ServerSideEncryption: 'AES256' }, 'sse-s3'],
  ])(
    'says how it is encrypted (%s), so its ETag is compared only when it is an MD5',
    async (said, answer, encryption) => {
      const key = `library/2024/head-${said.replaceAll(':', '-')}.MOV`;
      await put(key);
      headAnswer = (output) => Object.assign(output, answer);
      expect(await store().head(key)).toMatchObject({ encryption });
    },
  );
});

describe('a copy answer whose ETag is not an MD5 (an encrypted bucket)', () => {
  it.each([
    ['SSE-KMS', { ServerSideEncryption: 'aws:kms' }],
    ['DSSE-KMS', { ServerSideEncryption: 'aws:kms:dsse' }],
    ['SSE-C', { ServerSideEncryption: 'AES256', SSECustomerAlgorithm: 'AES256' }],
  ])('is not compared under %s', async (_, encryption) => {
    const notAnMd5 = '0123456789abcdef0123456789abcdef';
    copyAnswer = (output) => {
      Object.assign(output, encryption);
      (output.CopyObjectResult as { ETag?: string }).ETag = `"${notAnMd5}"`;
    };
    const stored = await put(`library/2024/${encryption.ServerSideEncryption}.MOV`);
    expect(stored.etag).toBe(notAnMd5);
    expect(stored.md5).toBe(generatedDigest(SIZE, 'md5'));
  });

  it("is compared under SSE-S3 (AES256), as every answer of the stack's bucket says", async () => {
    copyAnswer = (output) => {
      output.ServerSideEncryption = 'AES256';
    };
    corruptParts = 1;
    const error = await rejection(put('library/2024/sse-s3.MOV'));
    expect(error).toMatchObject({ name: 'UploadDigestMismatchError' });
  });
});
