/**
 * The local S3 keeps an object's tags as Amazon S3 does (functions/local/servers/s3-object-tagging.ts):
 * `x-amz-tagging` (URL-query form) on PutObject and CreateMultipartUpload is stored with the
 * object, carried to the completed object, and GetObjectTagging returns it; a new version
 * without the header has none; CopyObject takes the source's tags (`TaggingDirective` COPY, the
 * default) or the request's (REPLACE, no header = none); a tag set S3 refuses is refused with
 * S3's code and message and nothing is stored. Through the product's adapter: the final object
 * of a multipart put carries no staging tag (the lifecycle rule would expire it a day after it
 * is superseded, infra/archive-bucket.ts), nor does a single-part one; what a failed metadata
 * copy leaves behind (a role that may not delete) carries it.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { localS3ClientConfig } from '#local/servers/client-config.ts';
import { STAGING_TAG } from '#shared/env-names.ts';
import { generatedStream } from '#test/fakes/generated-stream.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';
import { s3Refusal } from '#test/helpers/s3-answers.ts';

const BUCKET = 'tags';
let local: LocalS3Bucket;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  client = local.client;
});
afterAll(() => local.close());

async function tagsOf(key: string): Promise<Record<string, string>> {
  const answer = await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
  return Object.fromEntries((answer.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

const put = (key: string, tagging?: string) =>
  client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: 'x',
      ...(tagging === undefined ? {} : { Tagging: tagging }),
    }),
  );

describe('x-amz-tagging on PutObject', () => {
  it('is stored with the object and returned by GetObjectTagging, decoded', async () => {
    await put('put/tagged', 'a=1&b=x%20y&c=');
    expect(await tagsOf('put/tagged')).toEqual({ a: '1', b: 'x y', c: '' });
  });

  it('goes with its version: a new one without the header has no tags, nor one after a delete', async () => {
    await put('put/replaced', 'a=1');
    await put('put/replaced');
    expect(await tagsOf('put/replaced')).toEqual({});
    await put('put/deleted', 'a=1');
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'put/deleted' }));
    await put('put/deleted');
    expect(await tagsOf('put/deleted')).toEqual({});
  });

  it('is one store with PutObjectTagging: a put without tags clears what it set', async () => {
    await put('put/subresource');
    await client.send(
      new PutObjectTaggingCommand({
        Bucket: BUCKET,
        Key: 'put/subresource',
        Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] },
      }),
    );
    expect(await tagsOf('put/subresource')).toEqual({ k: 'v' });
    await put('put/subresource');
    expect(await tagsOf('put/subresource')).toEqual({});
  });
});

describe('PutObjectTagging', () => {
  it('keeps values as given (no number parsing, every character S3 allows) and checks the set as S3 does', async () => {
    await put('subresource/values');
    const TagSet = [
      { Key: 'zero', Value: '007' },
      { Key: 'amp', Value: 'a+b=c /d:e@f_g.h-i' },
      { Key: 'empty', Value: '' },
    ];
    await client.send(
      new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'subresource/values', Tagging: { TagSet } }),
    );
    expect(await tagsOf('subresource/values')).toEqual({ zero: '007', amp: 'a+b=c /d:e@f_g.h-i', empty: '' });
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `t${i}`, Value: 'v' }));
    const error = await s3Refusal(
      client.send(
        new PutObjectTaggingCommand({
          Bucket: BUCKET,
          Key: 'subresource/values',
          Tagging: { TagSet: eleven },
        }),
      ),
    );
    expect({ status: error.$metadata.httpStatusCode, name: error.name }).toEqual({
      status: 400,
      name: 'BadRequest',
    });
    expect(await tagsOf('subresource/values')).toEqual({ zero: '007', amp: 'a+b=c /d:e@f_g.h-i', empty: '' });
  });
});

describe("S3's limits on a tag set", () => {
  const eleven = Array.from({ length: 11 }, (_, i) => `t${i}=v`).join('&');

  it('refuses more than 10 tags (400 BadRequest) and stores nothing', async () => {
    const error = await s3Refusal(put('limits/eleven', eleven));
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.name).toBe('BadRequest');
    expect(error.message).toBe('Object tags cannot be greater than 10');
    expect(
      await s3Refusal(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'limits/eleven' }))),
    ).toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('counts characters, not bytes: a 128-character key and a 256-character value pass, one more does not', async () => {
    const key = 'é'.repeat(128);
    const value = 'ü'.repeat(256);
    await put('limits/longest', `${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
    expect(await tagsOf('limits/longest')).toEqual({ [key]: value });
    const longKey = await s3Refusal(put('limits/key', `${'k'.repeat(129)}=v`));
    expect({ name: longKey.name, message: longKey.message }).toEqual({
      name: 'InvalidTag',
      message: 'The TagKey you have provided is invalid',
    });
    const longValue = await s3Refusal(put('limits/value', `k=${'v'.repeat(257)}`));
    expect({ name: longValue.name, message: longValue.message }).toEqual({
      name: 'InvalidTag',
      message: 'The TagValue you have provided is invalid',
    });
  });

  it('refuses a key given twice in the header (400 InvalidArgument)', async () => {
    const error = await s3Refusal(put('limits/twice', 'a=1&a=2'));
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.name).toBe('InvalidArgument');
    expect(error.message).toBe(
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
    );
  });

  it('refuses a bad tag set on CreateMultipartUpload, before any part', async () => {
    const error = await s3Refusal(
      client.send(
        new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'limits/upload', Tagging: eleven }),
      ),
    );
    expect(error.name).toBe('BadRequest');
  });
});

describe('x-amz-tagging on a multipart upload', () => {
  it('is carried from CreateMultipartUpload to the completed object', async () => {
    const key = 'multipart/tagged';
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, Tagging: 'stage=1' }),
    );
    const part = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: 'only part' }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(await tagsOf(key)).toEqual({ stage: '1' });
  });
});

describe('CopyObject and TaggingDirective', () => {
  const copy = (source: string, target: string, extra: Record<string, unknown> = {}) =>
    client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: target,
        CopySource: `${BUCKET}/${source}`,
        MetadataDirective: 'REPLACE',
        ...extra,
      }),
    );

  it("COPY (the default) gives the copy the source's tags, onto itself as to another key", async () => {
    await put('copy/source', 'a=1');
    await copy('copy/source', 'copy/other');
    expect(await tagsOf('copy/other')).toEqual({ a: '1' });
    await copy('copy/source', 'copy/source');
    expect(await tagsOf('copy/source')).toEqual({ a: '1' });
  });

  it("REPLACE gives it the request's tags, and none when the request has none", async () => {
    await put('copy/replaced', 'a=1');
    await copy('copy/replaced', 'copy/replaced-other', { TaggingDirective: 'REPLACE', Tagging: 'b=2' });
    expect(await tagsOf('copy/replaced-other')).toEqual({ b: '2' });
    await copy('copy/replaced', 'copy/replaced', { TaggingDirective: 'REPLACE', Tagging: '' });
    expect(await tagsOf('copy/replaced')).toEqual({});
  });

  it("a copy onto a tagged key without the source's tags leaves it none", async () => {
    await put('copy/untagged');
    await put('copy/target', 'old=1');
    await copy('copy/untagged', 'copy/target');
    expect(await tagsOf('copy/target')).toEqual({});
  });
});

describe('the staging tag through the archive adapter', () => {
  const staging = { [STAGING_TAG.key]: STAGING_TAG.value };
  const putThrough = (store: S3ArchivingObjectStore, key: string, size: number) =>
    store.putStream(key, generatedStream(size).stream, {
      contentType: 'video/quicktime',
      contentLength: size,
      metadata: mtimeMetadata(0),
    });

  it('leaves the final object of a multipart put and a single-part put without tags', async () => {
    const store = new S3ArchivingObjectStore({
      client,
      bucket: BUCKET,
      partSize: MIN_PART_SIZE,
      queueSize: 1,
    });
    const multipart = await putThrough(store, 'adapter/video.MOV', MIN_PART_SIZE + 1);
    expect(multipart.multipart).toBe(true);
    expect(await tagsOf('adapter/video.MOV')).toEqual({});
    await putThrough(store, 'adapter/photo.JPG', 1024);
    expect(await tagsOf('adapter/photo.JPG')).toEqual({});
  });

  it('leaves what a failed copy could not take back tagged as staging', async () => {
    const failing = new S3Client({ ...localS3ClientConfig(local.server.endpoint), maxAttempts: 1 });
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CopyObjectCommand')
          throw Object.assign(new Error('We encountered an internal error'), {
            name: 'InternalError',
            $metadata: { httpStatusCode: 500 },
          });
        if (context.commandName === 'DeleteObjectCommand')
          throw Object.assign(new Error('Access Denied'), {
            name: 'AccessDenied',
            $metadata: { httpStatusCode: 403 },
          });
        return next(args);
      },
      { step: 'initialize', name: 'failCopyAndDelete' },
    );
    try {
      const store = new S3ArchivingObjectStore({
        client: failing,
        bucket: BUCKET,
        partSize: MIN_PART_SIZE,
        queueSize: 1,
      });
      await expect(putThrough(store, 'adapter/staged.MOV', MIN_PART_SIZE + 1)).rejects.toMatchObject({
        name: 'InternalError',
      });
      expect(await tagsOf('adapter/staged.MOV')).toEqual(staging);
    } finally {
      failing.destroy();
    }
  });
});
