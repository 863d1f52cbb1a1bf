/**
 * What the s3rver child leaves out of every request (functions/local/servers/s3rver-request-work.ts):
 * its request log, and the reads of the bucket's CORS and website configuration, which it
 * remembers until a request changes them. A remembered configuration must never outlive a change.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localS3ClientConfig } from '#local/servers/client-config.ts';
import { type LocalS3Server, startS3Server } from '#local/servers/s3-server.ts';
import {
  dropRequestLog,
  rememberBucketConfigs,
  type S3rverConfigStore,
} from '#local/servers/s3rver-request-work.ts';

const BUCKET = 'archive';
let dir: string;
let server: LocalS3Server;
let client: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-request-work-'));
  server = await startS3Server({ directory: dir });
  client = new S3Client(localS3ClientConfig(server.endpoint));
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a.txt', Body: 'a' }));
});
afterAll(async () => {
  client.destroy();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

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
