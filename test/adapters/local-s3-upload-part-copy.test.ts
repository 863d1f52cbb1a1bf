/**
 * UploadPartCopy in the local S3, as S3 answers it (s3-upload-part-copy.ts): a part copied from
 * a range of an object (or all of it), its ETag the MD5 of the bytes copied, completed like
 * uploaded parts (`-N` ETag from the parts' MD5s); the source's conditions as CopyObject's
 * (`412 PreconditionFailed`); a bad range, part number, upload or source refused with S3's codes.
 * s3rver answered every UploadPartCopy `501 NotImplemented`.
 */
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipartEtag } from '#local/servers/s3-etags.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
const MIB = 1024 * 1024;
let local: LocalS3Bucket;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  ({ client } = local);
});
afterAll(() => local.close());

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
/** Bytes that differ at every offset mod 251, so a range off by one shows. */
const body = (size: number) => Buffer.from(Array.from({ length: size }, (_, at) => at % 251));
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

async function source(key: string, bytes: Buffer): Promise<string> {
  const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
  return put.ETag ?? '';
}

async function upload(key: string): Promise<string> {
  const created = await client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, Metadata: { sha256: 'abc' } }),
  );
  return created.UploadId ?? '';
}

const copyPart = (key: string, uploadId: string, PartNumber: number, extra: Record<string, string>) =>
  client.send(
    new UploadPartCopyCommand({
      Bucket: BUCKET,
      Key: key,
      UploadId: uploadId,
      PartNumber,
      CopySource: `${BUCKET}/source/IMG 1.MOV`,
      ...extra,
    }),
  );

describe('UploadPartCopy', () => {
  const bytes = body(12 * MIB + 7);

  it('copies ranges as parts whose ETags are their MD5s, completed like uploaded parts', async () => {
    const etag = await source('source/IMG 1.MOV', bytes);
    const key = 'copied/IMG 1.MOV';
    const uploadId = await upload(key);
    const ranges = [
      [0, 5 * MIB - 1],
      [5 * MIB, 10 * MIB - 1],
      [10 * MIB, bytes.length - 1],
    ] as const;
    const parts = [];
    for (const [at, [first, last]] of ranges.entries()) {
      const copied = await copyPart(key, uploadId, at + 1, {
        CopySourceRange: `bytes=${first}-${last}`,
        CopySourceIfMatch: etag,
      });
      expect(copied.CopyPartResult?.ETag).toBe(`"${md5(bytes.subarray(first, last + 1))}"`);
      expect(copied.CopyPartResult?.LastModified).toBeInstanceOf(Date);
      parts.push({ ETag: copied.CopyPartResult?.ETag, PartNumber: at + 1 });
    }
    const completed = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    expect(completed.ETag).toBe(
      `"${multipartEtag(ranges.map(([first, last]) => md5(bytes.subarray(first, last + 1))))}"`,
    );
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(md5((await got.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(md5(bytes));
    expect(got.Metadata).toEqual({ sha256: 'abc' });
  });

  it('copies the whole source without a range', async () => {
    const small = body(1000);
    const etag = await source('source/IMG 1.MOV', small);
    const key = 'copied/whole.MOV';
    const uploadId = await upload(key);
    const copied = await copyPart(key, uploadId, 1, {});
    expect(copied.CopyPartResult?.ETag).toBe(etag);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ ETag: copied.CopyPartResult?.ETag, PartNumber: 1 }] },
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(1000);
    expect(head.ETag).toBe(`"${multipartEtag([md5(small)])}"`);
  });

  it('refuses a source whose ETag is not the one named: 412 PreconditionFailed, nothing stored', async () => {
    await source('source/IMG 1.MOV', bytes);
    const key = 'copied/refused.MOV';
    const uploadId = await upload(key);
    const error = await rejection(
      copyPart(key, uploadId, 1, { CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"' }),
    );
    expect(error).toMatchObject({
      name: 'PreconditionFailed',
      Condition: 'x-amz-copy-source-If-Match',
      $metadata: { httpStatusCode: 412 },
    });
    const complete = await rejection(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: [{ ETag: `"${md5(bytes)}"`, PartNumber: 1 }] },
        }),
      ),
    );
    expect(complete).toMatchObject({ name: 'InvalidPart' });
  });

  it('refuses a range outside the source, or not of the form bytes=first-last: 400 InvalidArgument', async () => {
    await source('source/IMG 1.MOV', bytes);
    const key = 'copied/ranges.MOV';
    const uploadId = await upload(key);
    for (const range of [`bytes=0-${bytes.length}`, 'bytes=10-5']) {
      expect(await rejection(copyPart(key, uploadId, 1, { CopySourceRange: range }))).toMatchObject({
        name: 'InvalidArgument',
        message: `Range specified is not valid for source object of size: ${bytes.length}`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    for (const range of ['bytes=0-', '0-10', 'bytes=-10']) {
      expect(await rejection(copyPart(key, uploadId, 1, { CopySourceRange: range }))).toMatchObject({
        name: 'InvalidArgument',
        ArgumentName: 'x-amz-copy-source-range',
        $metadata: { httpStatusCode: 400 },
      });
    }
  });

  it('refuses a part number outside 1-10,000, an upload that does not exist, a source that does not', async () => {
    await source('source/IMG 1.MOV', bytes);
    const key = 'copied/others.MOV';
    const uploadId = await upload(key);
    expect(await rejection(copyPart(key, uploadId, 10_001, {}))).toMatchObject({
      name: 'InvalidArgument',
      ArgumentName: 'partNumber',
      $metadata: { httpStatusCode: 400 },
    });
    expect(await rejection(copyPart(key, 'abcdef0123456789', 1, {}))).toMatchObject({
      name: 'NoSuchUpload',
      $metadata: { httpStatusCode: 404 },
    });
    const missing = await rejection(
      client.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          PartNumber: 1,
          CopySource: `${BUCKET}/source/none.MOV`,
        }),
      ),
    );
    expect(missing).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  });

  it('copies the version its condition named or answers 412, even while a put replaces the source', async () => {
    // The condition and the bytes must come from one version: the copy reads the object file it
    // checked, not one a put renamed into place between the check and the read.
    const old = body(6 * MIB + 3);
    const oldMd5 = md5(old);
    const replacement = Buffer.from('the winner');
    const outcomes: string[] = [];
    for (let round = 0; round < 12; round++) {
      const etag = await source('source/IMG 1.MOV', old);
      const key = `copied/race-${round}.MOV`;
      const uploadId = await upload(key);
      const [copied] = await Promise.all([
        rejection(
          copyPart(key, uploadId, 1, {
            CopySourceIfMatch: etag,
            CopySourceRange: `bytes=0-${old.length - 1}`,
          }).then((answer) => {
            outcomes.push(answer.CopyPartResult?.ETag?.replaceAll('"', '') === oldMd5 ? 'old' : 'other');
          }),
        ),
        new Promise((resolve) => setTimeout(resolve, round % 4)).then(() =>
          client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'source/IMG 1.MOV', Body: replacement })),
        ),
      ]);
      if (copied !== undefined) outcomes.push((copied as { name?: string }).name ?? String(copied));
    }
    expect(outcomes.filter((outcome) => outcome !== 'old' && outcome !== 'PreconditionFailed')).toEqual([]);
  });
});
