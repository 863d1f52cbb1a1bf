/**
 * UploadPart with a part number S3 does not take (outside 1-10,000) is refused with
 * `400 InvalidArgument` naming it, as S3 does, and stores nothing. s3rver stored it under any
 * number, so a part 0 or 10,001 could be uploaded and listed at completion.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { CreateMultipartUploadCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
let local: LocalS3Bucket;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  ({ client } = local);
});
afterAll(() => local.close());

describe('UploadPart with a part number outside 1-10,000', () => {
  it('is refused with InvalidArgument naming it; parts 1 and 10,000 are taken', async () => {
    const key = 'video.mov';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const uploadPart = (PartNumber: number) =>
      client.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          PartNumber,
          Body: Buffer.alloc(1024, 1),
        }),
      );
    for (const number of [0, 10_001, -1]) {
      const error = await uploadPart(number).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        name: 'InvalidArgument',
        message: 'Part number must be an integer between 1 and 10000, inclusive',
        ArgumentName: 'partNumber',
        ArgumentValue: String(number),
        $metadata: { httpStatusCode: 400 },
      });
    }
    await uploadPart(1);
    await uploadPart(10_000);
    const files = await readdir(path.join(local.dir, BUCKET), { recursive: true });
    const parts = files.filter((file) => file.includes(UploadId!)).map((file) => path.basename(file));
    expect(parts.filter((name) => /^-?\d+$/.test(name)).sort()).toEqual(['1', '10000']);
  });
});
