/**
 * Deletes side by side in one folder of keys, and a put into a folder whose last object is being
 * deleted, all succeed at once, as on S3. s3rver removes a deleted key's folder once it is empty:
 * two deletes that empty the same folder both tried to remove it and the loser answered 500 (the
 * SDK retried it after a back-off: a catalog fold's journal deletions lost 25-50 ms to it), and a
 * put that had made its folder before the last delete removed it could not create its file.
 */
import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
let local: LocalS3Bucket;
let client: S3Client;

beforeAll(async () => {
  // No retry: a 500 must fail the test, not be hidden by the SDK's next attempt.
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
  ({ client } = local);
});
afterAll(() => local.close());

const put = (key: string) =>
  client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `of ${key}` }));
const remove = (key: string) => client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
const keysUnder = async (prefix: string) =>
  ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map(
    (o) => o.Key,
  );

describe('the local S3 under deletes side by side', () => {
  it('deletes every key of a folder at once without an error', async () => {
    for (let round = 0; round < 5; round++) {
      const keys = Array.from({ length: 8 }, (_, i) => `catalog/journal/${round}/entry-${i}.json`);
      await Promise.all(keys.map(put));
      await Promise.all(keys.map(remove));
      expect(await keysUnder(`catalog/journal/${round}/`)).toEqual([]);
    }
  });

  it('keeps a put whose folder loses its last object meanwhile', async () => {
    for (let round = 0; round < 10; round++) {
      const folder = `albums/folder-${round}/`;
      await put(`${folder}old.json`);
      await Promise.all([remove(`${folder}old.json`), put(`${folder}new.json`), put(`${folder}other.json`)]);
      expect(await keysUnder(folder)).toEqual([`${folder}new.json`, `${folder}other.json`]);
    }
  });
});
