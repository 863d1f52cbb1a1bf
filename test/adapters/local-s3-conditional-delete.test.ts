/**
 * The local S3 honours DeleteObject's `If-Match` as Amazon S3 does (functions/local/servers/
 * s3-delete-object.ts): the current object's ETag (or `*`) deletes it, another ETag is `412
 * PreconditionFailed` and the object stays, a key with no object is `404 NoSuchKey`. Without the
 * header a delete is as before: 204, whether there was an object or not.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';
import { headStatus, s3Refusal } from '#test/helpers/s3-answers.ts';

const BUCKET = 'conditional-deletes';
let local: LocalS3Bucket;
beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET, { maxAttempts: 1 });
});
afterAll(() => local.close());

async function put(key: string, body: string): Promise<string> {
  const { ETag } = await local.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return ETag ?? '';
}
const remove = (key: string, ifMatch?: string) =>
  local.client.send(
    new DeleteObjectCommand({
      Bucket: BUCKET,
      Key: key,
      ...(ifMatch === undefined ? {} : { IfMatch: ifMatch }),
    }),
  );
const head = (key: string) => headStatus(local.client, BUCKET, key);

describe("DeleteObject's If-Match", () => {
  it("deletes the object whose ETag it names, quoted or not, or any with '*'", async () => {
    const etag = await put('match/quoted', 'one');
    expect((await remove('match/quoted', etag)).$metadata.httpStatusCode).toBe(204);
    expect(await head('match/quoted')).toBe(404);
    const bare = (await put('match/bare', 'two')).replace(/"/g, '');
    await remove('match/bare', bare);
    expect(await head('match/bare')).toBe(404);
    await put('match/any', 'three');
    await remove('match/any', '*');
    expect(await head('match/any')).toBe(404);
  });

  it('refuses another ETag with 412 PreconditionFailed, as S3 words it, and leaves the object', async () => {
    await put('mismatch/kept', 'theirs');
    const refused = await s3Refusal(remove('mismatch/kept', '"0123456789abcdef0123456789abcdef"'));
    expect(refused.$metadata.httpStatusCode).toBe(412);
    expect(refused.name).toBe('PreconditionFailed');
    expect(refused.message).toBe('At least one of the pre-conditions you specified did not hold');
    expect(refused.Condition).toBe('If-Match');
    expect(await head('mismatch/kept')).toBe(200);
  });

  it('answers 404 NoSuchKey when the key has no object', async () => {
    const refused = await s3Refusal(remove('absent/never', '"0123456789abcdef0123456789abcdef"'));
    expect(refused.$metadata.httpStatusCode).toBe(404);
    expect(refused.name).toBe('NoSuchKey');
    expect((await s3Refusal(remove('absent/never', '*'))).name).toBe('NoSuchKey');
  });

  it('without If-Match deletes as before, a missing key included', async () => {
    await put('plain/one', 'bytes');
    expect((await remove('plain/one')).$metadata.httpStatusCode).toBe(204);
    expect(await head('plain/one')).toBe(404);
    expect((await remove('plain/one')).$metadata.httpStatusCode).toBe(204);
  });
});
