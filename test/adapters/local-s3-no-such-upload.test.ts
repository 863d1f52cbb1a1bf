/**
 * UploadPart to an upload that does not exist (never created, aborted, or an id that is no
 * upload id at all) is refused with `404 NoSuchUpload`, as S3 does, and stores nothing. s3rver
 * created the upload's directory for any id it was given: a part arriving after its upload was
 * aborted brought a dangling upload back on disk, listed by ListMultipartUploads, and an id with
 * `..` in it wrote outside the uploads directory.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localS3ClientConfig } from '#local/servers/client-config.ts';
import { type LocalS3Server, startS3Server } from '#local/servers/s3-server.ts';

const BUCKET = 'archive';
let dir: string;
let server: LocalS3Server;
let client: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-no-such-upload-'));
  server = await startS3Server({ directory: dir });
  client = new S3Client({ ...localS3ClientConfig(server.endpoint), maxAttempts: 1 });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  client.destroy();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

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
