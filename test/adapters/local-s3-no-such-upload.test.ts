/**
 * UploadPart to an upload that does not exist (never created, aborted, or an id that is no
 * upload id at all) is refused with `404 NoSuchUpload`, as S3 does, and stores nothing. s3rver
 * created the upload's directory for any id it was given: a part arriving after its upload was
 * aborted brought a dangling upload back on disk, listed by ListMultipartUploads, and an id with
 * `..` in it wrote outside the uploads directory.
 */
import { readdir } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
let local: LocalS3Bucket;
let dir: string;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  ({ dir, client } = local);
});
afterAll(() => local.close());

const uploadPart = (uploadId: string) =>
  client.send(
    new UploadPartCommand({
      Bucket: BUCKET,
      Key: 'library/video.mov',
      UploadId: uploadId,
      PartNumber: 1,
      Body: Buffer.alloc(1024, 1),
    }),
  );

const uploadsListed = async () =>
  (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];

describe('UploadPart to an upload that does not exist', () => {
  it('is refused with NoSuchUpload after the upload was aborted, and brings nothing back', async () => {
    const created = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'library/video.mov' }),
    );
    const uploadId = created.UploadId ?? '';
    await uploadPart(uploadId);
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'library/video.mov', UploadId: uploadId }),
    );

    await expect(uploadPart(uploadId)).rejects.toMatchObject({
      name: 'NoSuchUpload',
      $metadata: { httpStatusCode: 404 },
    });
    expect(await uploadsListed()).toEqual([]);
  });

  it('is refused with NoSuchUpload for an id never issued, or one that is no upload id', async () => {
    for (const uploadId of ['0123456789abcdef0123456789abcdef', '../../escape', 'not-hex']) {
      await expect(uploadPart(uploadId)).rejects.toMatchObject({
        name: 'NoSuchUpload',
        $metadata: { httpStatusCode: 404 },
      });
    }
    expect(await uploadsListed()).toEqual([]);
    expect((await readdir(dir)).filter((name) => name === 'escape')).toEqual([]);
  });
});

describe('AbortMultipartUpload of an upload that does not exist', () => {
  it("is refused with 404 NoSuchUpload and S3's message, naming the upload", async () => {
    const uploadId = '0123456789abcdef0123456789abcdef';
    const error = await client
      .send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'library/video.mov', UploadId: uploadId }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({
      name: 'NoSuchUpload',
      message:
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      UploadId: uploadId,
      $metadata: { httpStatusCode: 404 },
    });
  });
});
