/**
 * The S3 store's head says how the object is encrypted at rest, from HeadObject's
 * `ServerSideEncryption` and `SSECustomerAlgorithm`: verify needs it to know whether an ETag can be
 * an MD5 (not under SSE-KMS, DSSE-KMS or SSE-C). The local S3 sends neither header
 * (docs/state.md), so this is the SDK edge, mocked.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const store = () => new S3ObjectStore({ client: new S3Client({ region: 'eu-west-1' }), bucket: 'archive' });
const answer = { ETag: '"0123456789abcdef0123456789abcdef"', ContentLength: 10, Metadata: {} };

describe('S3ObjectStore.head', () => {
  it.each([
    [{ ServerSideEncryption: 'AES256' as const }, 'sse-s3'],
    [{ ServerSideEncryption: 'aws:kms' as const }, 'sse-kms'],
    [{ ServerSideEncryption: 'aws:kms:dsse' as const }, 'dsse-kms'],
    [{ SSECustomerAlgorithm: 'AES256' }, 'sse-c'],
    [{ ServerSideEncryption: 'aws:fsx' as const }, 'other'],
  ])('maps %o to encryption %s', async (headers, encryption) => {
    s3.on(HeadObjectCommand).resolves({ ...answer, ...headers });

    expect(await store().head('k')).toMatchObject({ encryption });
  });

  it('states no encryption when S3 sends none', async () => {
    s3.on(HeadObjectCommand).resolves(answer);

    expect(await store().head('k')).not.toHaveProperty('encryption');
  });
});
