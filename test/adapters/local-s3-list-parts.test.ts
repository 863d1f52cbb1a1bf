/**
 * ListParts as Amazon S3 answers it (API_ListParts.html), which s3rver 3.x refuses (`405`): the
 * parts an open upload holds, by part number, with their size and ETag (the part's MD5), a page of
 * at most `max-parts` (1,000 by default and at most) after `part-number-marker`, `IsTruncated`
 * and `NextPartNumberMarker` to go on; `404 NoSuchUpload` for an upload that is not open (never
 * created, aborted, completed) or belongs to another key. A resumed upload checks with it what S3
 * kept of its parts.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
const KEY = 'library/2026/12/video.mov';
let local: LocalS3Bucket;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  ({ client } = local);
});
afterAll(() => local.close());

async function openUpload(parts: readonly Buffer[]): Promise<{ uploadId: string; etags: string[] }> {
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: KEY }));
  const uploadId = created.UploadId ?? '';
  const etags: string[] = [];
  for (const [at, body] of parts.entries()) {
    const part = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId, PartNumber: at + 1, Body: body }),
    );
    etags.push(part.ETag ?? '');
  }
  return { uploadId, etags };
}

const md5 = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

describe('ListParts on the local S3', () => {
  it('lists the parts of an open upload in order, with size and ETag', async () => {
    const bodies = [Buffer.alloc(2048, 1), Buffer.alloc(1024, 2), Buffer.alloc(10, 3)];
    const { uploadId, etags } = await openUpload(bodies);
    const listed = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId }));
    expect(listed.IsTruncated).toBe(false);
    expect(listed.UploadId).toBe(uploadId);
    expect(listed.Key).toBe(KEY);
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 2048, md5(bodies[0]!)],
      [2, 1024, md5(bodies[1]!)],
      [3, 10, md5(bodies[2]!)],
    ]);
    expect(listed.Parts?.map((p) => p.ETag)).toEqual(etags);
    expect(listed.Parts?.[0]?.LastModified).toBeInstanceOf(Date);
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId }));
  });

  it('pages with max-parts and part-number-marker', async () => {
    const { uploadId } = await openUpload([1, 2, 3, 4, 5].map((n) => Buffer.alloc(100, n)));
    const first = await client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId, MaxParts: 2 }),
    );
    expect(first.Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
    expect(first.IsTruncated).toBe(true);
    expect(first.NextPartNumberMarker).toBe('2');
    const rest = await client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId, PartNumberMarker: '2' }),
    );
    expect(rest.Parts?.map((p) => p.PartNumber)).toEqual([3, 4, 5]);
    expect(rest.IsTruncated).toBe(false);
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId }));
  });

  it('lists no parts of an upload that has none', async () => {
    const { uploadId } = await openUpload([]);
    const listed = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId }));
    expect(listed.Parts ?? []).toEqual([]);
    expect(listed.IsTruncated).toBe(false);
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId }));
  });

  it('answers NoSuchUpload for an aborted or completed upload, another key, or no upload id', async () => {
    const aborted = await openUpload([Buffer.alloc(10, 1)]);
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: aborted.uploadId }),
    );
    const done = await openUpload([Buffer.alloc(10, 1)]);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: KEY,
        UploadId: done.uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: done.etags[0] }] },
      }),
    );
    const open = await openUpload([Buffer.alloc(10, 1)]);
    for (const [key, uploadId] of [
      [KEY, aborted.uploadId],
      [KEY, done.uploadId],
      ['library/other.mov', open.uploadId],
      [KEY, 'not-an-upload-id'],
    ] as const) {
      await expect(
        client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } });
    }
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: open.uploadId }));
  });
});
