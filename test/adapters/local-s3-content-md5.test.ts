/**
 * The local S3 checks a body against the `Content-MD5` it declares, as Amazon S3 does: a body
 * that does not match is refused with `400 BadDigest` and nothing is stored (an object it would
 * have replaced stays as it was); a `Content-MD5` that is not the base64 of 16 bytes is refused
 * with `400 InvalidDigest`. PutObject and UploadPart alike, small bodies (held whole) and large
 * ones (streamed), through a real S3Client and the s3rver child (functions/local/servers/).
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMP_MARK } from '#local/servers/atomic-s3rver-store.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';
import { headStatus, readObject, s3Refusal } from '#test/helpers/s3-answers.ts';
import { expectSameBytes } from '#test/helpers/same-bytes.ts';

const BUCKET = 'archive';
let local: LocalS3Bucket;
let dir: string;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  ({ dir, client } = local);
});
afterAll(() => local.close());

const md5 = (bytes: Buffer) => createHash('md5').update(bytes);
const md5Base64 = (bytes: Buffer) => md5(bytes).digest('base64');
const md5Hex = (bytes: Buffer) => md5(bytes).digest('hex');
const body = (size: number, fill: number) => Buffer.alloc(size, fill);

/** The SDK exception `send` rejects with (a test failure when it resolves). */

/** Files under the data directory whose name marks an unfinished write. */
async function temporaryFiles(): Promise<string[]> {
  const files = await readdir(dir, { recursive: true });
  return files.filter((file) => file.includes(TEMP_MARK));
}

const BAD_DIGEST = 'The Content-MD5 you specified did not match what we received.';
const INVALID_DIGEST = 'The Content-MD5 you specified was invalid.';

describe('the local S3 and Content-MD5 on PutObject', () => {
  // 1 KiB is held whole by the atomic store, 200 KiB streamed to disk (SMALL_OBJECT_BYTES).
  for (const size of [1024, 200 * 1024]) {
    it(`refuses a ${size}-byte body that does not match its Content-MD5 with BadDigest, storing nothing`, async () => {
      const key = `bad-digest-${size}.bin`;
      const sent = body(size, 1);
      const declared = body(size, 2);
      const error = await s3Refusal(
        client.send(
          new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: sent, ContentMD5: md5Base64(declared) }),
        ),
      );
      expect(error.name).toBe('BadDigest');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message).toBe(BAD_DIGEST);
      // S3's error body also names both digests: the declared one in hex, the computed one in base64.
      expect(error).toMatchObject({ ExpectedDigest: md5Hex(declared), CalculatedDigest: md5Base64(sent) });
      expect(await headStatus(client, BUCKET, key)).toBe(404);
      expect(await temporaryFiles()).toEqual([]);
    });
  }

  it('keeps the object a refused put would have replaced', async () => {
    const key = 'kept.bin';
    const first = body(1024, 3);
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: first, ContentMD5: md5Base64(first) }),
    );
    const error = await s3Refusal(
      client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body(1024, 4), ContentMD5: md5Base64(first) }),
      ),
    );
    expect(error.name).toBe('BadDigest');
    expect(await readObject(client, BUCKET, key)).toEqual(first);
  });

  it('refuses a Content-MD5 that is not the base64 of an MD5 with InvalidDigest, storing nothing', async () => {
    const sent = body(1024, 5);
    // Not base64 at all; the base64 of 15 bytes; the hex digest (valid base64 of 24 bytes).
    const malformed = ['not an md5', Buffer.alloc(15, 7).toString('base64'), md5Hex(sent)];
    for (const [at, contentMd5] of malformed.entries()) {
      const key = `invalid-digest-${at}.bin`;
      const error = await s3Refusal(
        client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: sent, ContentMD5: contentMd5 })),
      );
      expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual([
        'InvalidDigest',
        400,
        INVALID_DIGEST,
      ]);
      expect(await headStatus(client, BUCKET, key)).toBe(404);
    }
    expect(await temporaryFiles()).toEqual([]);
  });

  it('stores a body that matches its Content-MD5, its ETag the hex MD5', async () => {
    for (const size of [1024, 200 * 1024]) {
      const sent = body(size, 6);
      const put = await client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `good-${size}.bin`,
          Body: sent,
          ContentMD5: md5Base64(sent),
        }),
      );
      expect(put.$metadata.httpStatusCode).toBe(200);
      expect(put.ETag).toBe(`"${md5Hex(sent)}"`);
      expectSameBytes(await readObject(client, BUCKET, `good-${size}.bin`), sent, `good-${size}.bin`);
    }
  });
});

describe('the local S3 and Content-MD5 on UploadPart', () => {
  /** The files s3rver keeps for an upload in progress (its parts are named by their number). */
  async function storedParts(uploadId: string): Promise<string[]> {
    const files = await readdir(path.join(dir, BUCKET), { recursive: true });
    return files
      .filter((file) => file.split(path.sep).includes(uploadId))
      .map((file) => path.basename(file))
      .filter((name) => /^\d+$/.test(name));
  }

  it('refuses a part that does not match its Content-MD5; a correct retry of it completes the upload', async () => {
    const key = 'multipart.bin';
    const first = body(5 * 1024 * 1024, 8);
    const second = body(100 * 1024, 9);
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const uploadPart = (PartNumber: number, Body: Buffer, ContentMD5: string) =>
      client.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber, Body, ContentMD5 }),
      );

    const error = await s3Refusal(uploadPart(1, first, md5Base64(second)));
    expect([error.name, error.$metadata.httpStatusCode, error.message]).toEqual([
      'BadDigest',
      400,
      BAD_DIGEST,
    ]);
    const small = await s3Refusal(uploadPart(2, second, md5Base64(first)));
    expect(small.name).toBe('BadDigest');
    expect(await storedParts(UploadId!)).toEqual([]);
    expect(await temporaryFiles()).toEqual([]);

    const malformed = await s3Refusal(uploadPart(1, first, 'not an md5'));
    expect([malformed.name, malformed.$metadata.httpStatusCode]).toEqual(['InvalidDigest', 400]);
    expect(await storedParts(UploadId!)).toEqual([]);

    const one = await uploadPart(1, first, md5Base64(first));
    const two = await uploadPart(2, second, md5Base64(second));
    expect([one.ETag, two.ETag]).toEqual([`"${md5Hex(first)}"`, `"${md5Hex(second)}"`]);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: one.ETag },
            { PartNumber: 2, ETag: two.ETag },
          ],
        },
      }),
    );
    expect((await readObject(client, BUCKET, key)).equals(Buffer.concat([first, second]))).toBe(true);
    expect(await temporaryFiles()).toEqual([]);
  });
});
