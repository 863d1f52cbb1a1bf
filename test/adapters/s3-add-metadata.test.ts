/**
 * `S3ObjectStore.addMetadata` against the local S3, on a video as the workers archived those over
 * 5 GiB before the multipart copy (here a 10 MiB copy limit and a 12 MiB video in 5 MiB parts):
 * its multipart upload current, tagged `icloud-s3-staging=1`, with the up-front metadata alone.
 * The store's own rewrite gives it `icloud-sha256` and `md5chksum` server-side: no byte of it is
 * read back, no open upload is left, and another writer's version is never copied over.
 */

import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { STAGING_TAG } from '#shared/env-names.ts';
import { generatedDigest, generatedStream } from '#test/fakes/generated-stream.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
const MAX_COPY_BYTES = 10 * 1024 * 1024;
const SIZE = 12 * 1024 * 1024 + 4_321;
const SMALL = 6 * 1024 * 1024 + 17;
const UPFRONT = { mtime: '1625400000', 'icloud-asset': 'AssetOld' };
let local: LocalS3Bucket;
let client: S3Client;
/** The commands the store sent, by name. */
const sent: string[] = [];
/** Runs before the next UploadPartCopy or CopyObject is sent (another writer landing meanwhile). */
let beforeCopy: ((key: string) => Promise<void>) | undefined;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  client = local.client;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '';
      sent.push(name);
      if ((name === 'UploadPartCopyCommand' || name === 'CopyObjectCommand') && beforeCopy !== undefined) {
        const before = beforeCopy;
        beforeCopy = undefined;
        await before((args.input as { Key: string }).Key);
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
});
afterAll(() => local.close());

const store = () => new S3ObjectStore({ client, bucket: BUCKET, maxCopyBytes: MAX_COPY_BYTES });

/** What the workers left before the multipart copy: the upload current, tagged, no late metadata. */
async function putAsEarlierWorkers(key: string, size: number): Promise<string> {
  const done = await new Upload({
    client,
    partSize: MIN_PART_SIZE,
    queueSize: 2,
    params: {
      Bucket: BUCKET,
      Key: key,
      Body: generatedStream(size).stream,
      ContentType: 'video/quicktime',
      Metadata: UPFRONT,
      Tagging: `${STAGING_TAG.key}=${STAGING_TAG.value}`,
    },
  }).done();
  return (done.ETag ?? '').replaceAll('"', '');
}

const headOf = (key: string) => client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
const tagsOf = async (key: string) =>
  (await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet ?? [];
const openUploads = async () =>
  (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
const md5Of = async (key: string) => {
  const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
  return createHash('md5').update(bytes).digest('hex');
};
const addition = (etag: string, size: number) => ({
  ifEtag: etag,
  md5: generatedDigest(size, 'md5'),
  metadata: { 'icloud-sha256': generatedDigest(size, 'sha256') },
});

describe('S3ObjectStore.addMetadata on a video the earlier workers left without its late metadata', () => {
  it('starts as such a video: a multipart ETag, the staging tag, no md5chksum', async () => {
    const key = 'library/2021/IMG_0200.MOV';
    const etag = await putAsEarlierWorkers(key, SIZE);
    expect(etag).toMatch(/-3$/);
    expect((await headOf(key)).Metadata).toEqual(UPFRONT);
    expect(await tagsOf(key)).toEqual([{ Key: STAGING_TAG.key, Value: STAGING_TAG.value }]);
  });

  it('over the copy limit: adds icloud-sha256 and md5chksum in part copies, drops the tag, reads no byte', async () => {
    const key = 'library/2021/IMG_0201.MOV';
    const etag = await putAsEarlierWorkers(key, SIZE);
    sent.length = 0;

    const result = await store().addMetadata(key, addition(etag, SIZE));

    const head = await headOf(key);
    expect(result).toEqual({ added: true, etag: head.ETag?.replaceAll('"', '') });
    expect(head.ContentLength).toBe(SIZE);
    expect(head.ContentType).toBe('video/quicktime');
    expect(head.Metadata).toEqual({
      ...UPFRONT,
      'icloud-sha256': generatedDigest(SIZE, 'sha256'),
      md5chksum: Buffer.from(generatedDigest(SIZE, 'md5'), 'hex').toString('base64'),
    });
    expect(await tagsOf(key)).toEqual([]);
    // A HEAD and the multipart copy: nothing read back, nothing uploaded.
    expect(sent).not.toContain('GetObjectCommand');
    expect(sent).not.toContain('UploadPartCommand');
    expect(sent).not.toContain('CopyObjectCommand');
    expect(sent.filter((name) => name === 'UploadPartCopyCommand').length).toBeGreaterThanOrEqual(2);
    expect(await md5Of(key)).toBe(generatedDigest(SIZE, 'md5'));
    expect(await openUploads()).toEqual([]);
  });

  it('within the copy limit: the same in one CopyObject', async () => {
    const key = 'library/2021/IMG_0202.MOV';
    const etag = await putAsEarlierWorkers(key, SMALL);
    sent.length = 0;

    const result = await store().addMetadata(key, addition(etag, SMALL));

    expect(result).toMatchObject({ added: true });
    expect(sent).toEqual(['HeadObjectCommand', 'CopyObjectCommand']);
    expect((await headOf(key)).Metadata).toMatchObject({
      'icloud-sha256': generatedDigest(SMALL, 'sha256'),
      md5chksum: Buffer.from(generatedDigest(SMALL, 'md5'), 'hex').toString('base64'),
    });
    expect(await tagsOf(key)).toEqual([]);
    expect(await md5Of(key)).toBe(generatedDigest(SMALL, 'md5'));
  });

  it('rewrites nothing when the ETag is not the one verify read', async () => {
    const key = 'library/2021/IMG_0203.MOV';
    const etag = await putAsEarlierWorkers(key, SIZE);
    sent.length = 0;

    const result = await store().addMetadata(key, addition('0123456789abcdef0123456789abcdef-3', SIZE));

    expect(result).toEqual({ added: false, why: 'changed' });
    expect(sent).toEqual(['HeadObjectCommand']);
    expect((await headOf(key)).ETag).toBe(`"${etag}"`);
    expect(await tagsOf(key)).toEqual([{ Key: STAGING_TAG.key, Value: STAGING_TAG.value }]);
  });

  it("copies nothing over another writer's version that lands during the copy (412), and leaves it current", async () => {
    const key = 'library/2021/IMG_0204.MOV';
    const etag = await putAsEarlierWorkers(key, SIZE);
    let landing: Promise<{ ETag?: string }> | undefined;
    beforeCopy = async (copied) => {
      landing = client.send(new PutObjectCommand({ Bucket: BUCKET, Key: copied, Body: 'the winner' }));
      await landing;
    };

    const result = await store().addMetadata(key, addition(etag, SIZE));

    expect(result).toEqual({ added: false, why: 'changed' });
    // Another part copy can meet the winner's version (412) before this put has answered: the
    // copy then stops, so wait for the put before looking at the key.
    const theirs = (await landing)?.ETag;
    const head = await headOf(key);
    expect(head.ETag).toBe(theirs);
    expect(head.Metadata).toEqual({});
    expect(await openUploads()).toEqual([]);
  });

  it('says the object is missing when there is none', async () => {
    const result = await store().addMetadata('library/2021/none.MOV', addition('00-1', SIZE));
    expect(result).toEqual({ added: false, why: 'missing' });
  });
});
