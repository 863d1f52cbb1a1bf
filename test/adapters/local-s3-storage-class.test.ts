/**
 * The local S3 keeps the storage class an upload names, as S3 does: PutObject and
 * CreateMultipartUpload take `x-amz-storage-class`, HEAD answers it for a class other than
 * STANDARD (and omits it for STANDARD), and a CopyObject that names none writes STANDARD (S3 does
 * not carry the source's class over). Then the archiving store, told the class, puts a photo and a
 * multipart video straight into it, and the video's metadata copy (md5chksum, mtime for rclone)
 * keeps it.
 */
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
let local: LocalS3Bucket;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  client = local.client;
});
afterAll(() => local.close());

const classOf = async (key: string) =>
  (await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).StorageClass;

describe('the local S3 and x-amz-storage-class', () => {
  it('keeps the class a PutObject names; HEAD omits STANDARD', async () => {
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'it', Body: 'a', StorageClass: 'INTELLIGENT_TIERING' }),
    );
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'std', Body: 'a', StorageClass: 'STANDARD' }),
    );
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'none', Body: 'a' }));

    expect(await classOf('it')).toBe('INTELLIGENT_TIERING');
    expect(await classOf('std')).toBeUndefined();
    expect(await classOf('none')).toBeUndefined();
  });

  it('keeps the class a CreateMultipartUpload names', async () => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp', StorageClass: 'INTELLIGENT_TIERING' }),
    );
    const part = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'mp', UploadId, PartNumber: 1, Body: 'only part' }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );

    expect(await classOf('mp')).toBe('INTELLIGENT_TIERING');
  });

  it('writes STANDARD on a copy that names no class, the named class otherwise', async () => {
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'c', Body: 'a', StorageClass: 'INTELLIGENT_TIERING' }),
    );
    const copy = (StorageClass?: 'INTELLIGENT_TIERING') =>
      client.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: 'c',
          CopySource: `${BUCKET}/c`,
          MetadataDirective: 'REPLACE',
          Metadata: { mtime: '1' },
          ...(StorageClass === undefined ? {} : { StorageClass }),
        }),
      );

    await copy();
    expect(await classOf('c')).toBeUndefined();
    await copy('INTELLIGENT_TIERING');
    expect(await classOf('c')).toBe('INTELLIGENT_TIERING');
  });
});

describe('the archiving store told the class', () => {
  const store = () =>
    new S3ObjectStore({
      client,
      bucket: BUCKET,
      partSize: MIN_PART_SIZE,
      queueSize: 1,
      storageClass: 'INTELLIGENT_TIERING',
    });

  it('puts a photo and a multipart video into it, and the metadata copy keeps it', async () => {
    const photo = Buffer.from('a small photo');
    await store().putStream('library/p.heic', Readable.from([photo]), {
      contentType: 'image/heic',
      contentLength: photo.length,
      metadata: { mtime: '1625400000' },
    });
    const video = Buffer.alloc(MIN_PART_SIZE + 1_234, 7);
    await store().putStream('library/v.mov', Readable.from([video]), {
      contentType: 'video/quicktime',
      contentLength: video.length,
      metadata: { mtime: '1625400000' },
    });
    await store().putBytes('albums/A.json', Buffer.from('{}'), { contentType: 'application/json' });

    for (const key of ['library/p.heic', 'library/v.mov', 'albums/A.json']) {
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      expect({ key, storageClass: head.StorageClass }).toEqual({ key, storageClass: 'INTELLIGENT_TIERING' });
      expect(head.Metadata).toHaveProperty('md5chksum');
    }
    const video_ = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'library/v.mov' }));
    expect(video_.Metadata).toMatchObject({ mtime: '1625400000' });
  });
});
