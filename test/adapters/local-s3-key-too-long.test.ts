/**
 * A write to a key of more than 1,024 UTF-8 bytes is refused as S3 refuses it: `400
 * KeyTooLongError`, "Your key is too long", with the key's `Size` and the `MaxSizeAllowed`
 * ("Naming Amazon S3 objects": the prefix, the delimiters and the name count toward 1,024 bytes of
 * UTF-8). A key of exactly 1,024 bytes is taken. s3rver stored any key its file system took, so a
 * view key S3 refuses went through locally.
 */
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
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

/** A key of `bytes` UTF-8 bytes: folders of 3-byte CJK characters, each segment under 255 bytes. */
function keyOf(bytes: number): string {
  const folder = '写'.repeat(60);
  const segments: string[] = [];
  let used = 0;
  while (used + 181 + 1 <= bytes) {
    segments.push(folder);
    used += 181;
  }
  segments.push('k'.repeat(bytes - used));
  return segments.join('/');
}

const refusal = (bytes: number) => ({
  name: 'KeyTooLongError',
  message: 'Your key is too long',
  Size: String(bytes),
  MaxSizeAllowed: '1024',
  $metadata: { httpStatusCode: 400 },
});

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('a key of more than 1,024 bytes', () => {
  it('is refused for PutObject with KeyTooLongError; 1,024 bytes are taken', async () => {
    expect(Buffer.byteLength(keyOf(1025))).toBe(1025);
    const put = (Key: string) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
    expect(await failureOf(put(keyOf(1025)))).toMatchObject(refusal(1025));
    await put(keyOf(1024));
  });

  it('is refused for CreateMultipartUpload and as a CopyObject destination', async () => {
    const tooLong = keyOf(1100);
    expect(
      await failureOf(client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: tooLong }))),
    ).toMatchObject(refusal(1100));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'source', Body: 'x' }));
    expect(
      await failureOf(
        client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: tooLong, CopySource: `${BUCKET}/source` })),
      ),
    ).toMatchObject(refusal(1100));
  });
});
