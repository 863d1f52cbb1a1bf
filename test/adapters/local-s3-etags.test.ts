/**
 * The local S3 gives objects the ETags Amazon S3 gives them (atomic-s3rver-store.ts):
 *
 * - a multipart upload's: `hex(md5(the parts' binary MD5s, in order))-<parts>`, answered by
 *   CompleteMultipartUpload and kept by HEAD, GET and List;
 * - a copy's (CopyObject, onto itself with REPLACE or to another key): the MD5 of its bytes, even
 *   when the source was a multipart upload (`-N`); the source keeps its own.
 */
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_BYTES } from '#local/servers/s3-complete-multipart.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'etags';
let local: LocalS3Bucket;
beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
});
afterAll(() => local.close());

const md5 = (data: Buffer) => createHash('md5').update(data).digest();
const unquote = (etag: string | undefined) => etag?.replaceAll('"', '');

/** Two parts (one of the least size S3 takes, then a short last one), their bytes and S3's ETag. */
function twoParts(seed: number): { parts: Buffer[]; whole: Buffer; etag: string } {
  const parts = [Buffer.alloc(MIN_PART_BYTES, seed), Buffer.alloc(1000, seed + 1)];
  const etag = `${md5(Buffer.concat(parts.map(md5))).toString('hex')}-2`;
  return { parts, whole: Buffer.concat(parts), etag };
}

async function uploadMultipart(key: string, parts: readonly Buffer[]): Promise<string | undefined> {
  const { UploadId } = await local.client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: 'video/quicktime' }),
  );
  const listed = [];
  for (const [at, body] of parts.entries()) {
    const { ETag } = await local.client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: at + 1, Body: body }),
    );
    listed.push({ PartNumber: at + 1, ETag });
  }
  const completed = await local.client.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: listed },
    }),
  );
  return unquote(completed.ETag);
}

/** The ETag HEAD, GET and List give `key`, each. */
async function etagsSeen(key: string): Promise<(string | undefined)[]> {
  const head = await local.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  const got = await local.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  await got.Body?.transformToByteArray();
  const listed = await local.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: key }));
  return [head.ETag, got.ETag, listed.Contents?.find((object) => object.Key === key)?.ETag].map(unquote);
}

describe('ETags as S3 gives them', () => {
  it("a completed multipart upload's is the MD5 of its parts' MD5s and the part count", async () => {
    const { parts, etag } = twoParts(1);
    expect(await uploadMultipart('multipart.MOV', parts)).toBe(etag);
    expect(await etagsSeen('multipart.MOV')).toEqual([etag, etag, etag]);
  });

  it('a copy of a multipart object onto itself (REPLACE) gets the MD5 of its bytes', async () => {
    const { parts, whole } = twoParts(3);
    const completed = await uploadMultipart('same-key.MOV', parts);
    const copied = await local.client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'same-key.MOV',
        CopySource: `${BUCKET}/same-key.MOV`,
        CopySourceIfMatch: `"${completed}"`,
        MetadataDirective: 'REPLACE',
        ContentType: 'video/quicktime',
        Metadata: { md5chksum: md5(whole).toString('base64') },
      }),
    );
    const plain = md5(whole).toString('hex');
    expect(unquote(copied.CopyObjectResult?.ETag)).toBe(plain);
    expect(await etagsSeen('same-key.MOV')).toEqual([plain, plain, plain]);
    const head = await local.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'same-key.MOV' }));
    expect(head.Metadata).toEqual({ md5chksum: md5(whole).toString('base64') });
    expect(head.ContentLength).toBe(whole.length);
  });

  it('a copy of a multipart object to another key gets the MD5 of its bytes; the source keeps its own', async () => {
    const { parts, whole, etag } = twoParts(5);
    await uploadMultipart('source.MOV', parts);
    const copied = await local.client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'target.MOV', CopySource: `${BUCKET}/source.MOV` }),
    );
    const plain = md5(whole).toString('hex');
    expect(unquote(copied.CopyObjectResult?.ETag)).toBe(plain);
    expect(await etagsSeen('target.MOV')).toEqual([plain, plain, plain]);
    expect(await etagsSeen('source.MOV')).toEqual([etag, etag, etag]);
    const got = await local.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'target.MOV' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(whole)).toBe(true);
  });

  it("a copy of a single PUT's object keeps the MD5 it had", async () => {
    const body = Buffer.from('a photo');
    await local.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'photo.JPG', Body: body }));
    const copied = await local.client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'photo.JPG',
        CopySource: `${BUCKET}/photo.JPG`,
        MetadataDirective: 'REPLACE',
      }),
    );
    expect(unquote(copied.CopyObjectResult?.ETag)).toBe(md5(body).toString('hex'));
  });
});
