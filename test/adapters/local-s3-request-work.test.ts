import {
  DeleteBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalS3Server } from '#local/servers/s3-server.ts';
import {
  dropRequestLog,
  rememberBucketConfigs,
  type S3rverConfigStore,
} from '#local/servers/s3rver-request-work.ts';
import { type LocalS3Bucket, openLocalS3Bucket } from '#test/helpers/local-s3-bucket.ts';

const BUCKET = 'archive';
let local: LocalS3Bucket;
let dir: string;
let server: LocalS3Server;
let client: S3Client;

beforeAll(async () => {
  local = await openLocalS3Bucket(BUCKET);
  ({ dir, server, client } = local);
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a.txt', Body: 'a' }));
});
afterAll(() => local.close());

/** The CORS answer to a browser's GET of the object from `origin` (s3rver serves it unsigned). */
async function allowedOrigin(origin: string): Promise<string | null> {
  const response = await fetch(`${server.endpoint}/${BUCKET}/a.txt`, { headers: { origin } });
  await response.arrayBuffer();
  return response.headers.get('access-control-allow-origin');
}

describe('the s3rver child per request', () => {
  it('applies a CORS configuration set after requests were served, and drops it once deleted', async () => {
    const origin = 'https://photos.example';
    expect(await allowedOrigin(origin)).toBeNull();
    await client.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ['GET'] }] },
      }),
    );
    expect(await allowedOrigin(origin)).toBe(origin);
    expect(await allowedOrigin(origin)).toBe(origin);
    await client.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
    expect(await allowedOrigin(origin)).toBeNull();
  });

  it('finds the request log in the s3rver it runs', async () => {
    const app = new S3rver({ directory: dir, silent: true });
    const before = app.middleware.length;
    expect(dropRequestLog(app.middleware)).toBe(true);
    expect(app.middleware).toHaveLength(before - 1);
    expect(dropRequestLog(app.middleware)).toBe(false);
  });

  it('reads a configuration once while nothing changes it, and again after a change', async () => {
    let reads = 0;
    const store: S3rverConfigStore = {
      getSubresource: async () => {
        reads++;
        return null;
      },
      putSubresource: async () => undefined,
      deleteSubresource: async () => undefined,
      putBucket: async () => undefined,
      deleteBucket: async () => undefined,
    };
    rememberBucketConfigs(store);
    await store.getSubresource('b', undefined, 'cors');
    await store.getSubresource('b', undefined, 'cors');
    await store.getSubresource('b', undefined, 'website');
    expect(reads).toBe(2);
    await store.deleteBucket('b');
    await store.getSubresource('b', undefined, 'cors');
    expect(reads).toBe(3);
    // An object's own subresources (tagging, ACLs) are read each time.
    await store.getSubresource('b', 'key', 'tagging');
    await store.getSubresource('b', 'key', 'tagging');
    expect(reads).toBe(5);
  });
});
