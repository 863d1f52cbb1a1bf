/**
 * The local S3 (the s3rver child) on a temporary directory with one bucket, and a client for it:
 * what the local S3's own tests start in `beforeAll` and stop in `afterAll`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { localS3ClientConfig } from '#local/servers/client-config.ts';
import { type LocalS3Server, startS3Server } from '#local/servers/s3-server.ts';

export interface LocalS3Bucket {
  /** The data directory the server stores under. */
  readonly dir: string;
  readonly server: LocalS3Server;
  readonly client: S3Client;
  readonly bucket: string;
  /** Destroys the client, stops the server and removes the directory. */
  close(): Promise<void>;
}

export async function openLocalS3Bucket(
  bucket: string,
  clientConfig: Partial<S3ClientConfig> = {},
): Promise<LocalS3Bucket> {
  const dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-local-s3-'));
  const server = await startS3Server({ directory: dir });
  const client = new S3Client({ ...localS3ClientConfig(server.endpoint), ...clientConfig });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    dir,
    server,
    client,
    bucket,
    async close() {
      client.destroy();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates `bucket` as `objectLockMode: governance` deploys the archive's: Object Lock enabled and a
 * default retention of 30 days in governance mode.
 */
export async function createObjectLockBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await client.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } },
      },
    }),
  );
}
