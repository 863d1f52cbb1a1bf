import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client, type S3ClientConfig, UploadPartCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { signWithUnsignedPayload } from '#adapters/aws/s3-unsigned-payload.ts';
import { ARCHIVE_S3_CLIENT_CONFIG } from '#compose/archive-s3-client.ts';

interface SentRequest {
  readonly method: string;
  readonly headers: Record<string, string>;
}

/** An S3 client whose requests stop at the SDK's edge: recorded as signed, answered 200. */
function edgeClient(config: S3ClientConfig = {}) {
  const sent: SentRequest[] = [];
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    ...config,
    requestHandler: {
      handle: async (request: SentRequest) => {
        sent.push({ method: request.method, headers: { ...request.headers } });
        return {
          response: { statusCode: 200, headers: { etag: '"e"' }, body: Readable.from([]) },
        };
      },
    },
  });
  return { client, sent };
}

const body = Buffer.alloc(64 * 1024, 7);
const checksumHeaders = (headers: Record<string, string>) =>
  Object.keys(headers).filter((h) => h.toLowerCase().startsWith('x-amz-checksum-'));

describe('S3 requests signed without hashing the payload', () => {
  it('an uploaded part goes out UNSIGNED-PAYLOAD, with the header signed and no checksum', async () => {
    const { client, sent } = edgeClient(ARCHIVE_S3_CLIENT_CONFIG);
    signWithUnsignedPayload(client);
    await client.send(
      new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1, Body: body }),
    );
    const [request] = sent;
    expect(request?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(request?.headers['authorization']).toMatch(/SignedHeaders=[^,]*x-amz-content-sha256/);
    expect(checksumHeaders(request?.headers ?? {})).toEqual([]);
  });

  it('without it, the SDK hashes every part (what the middleware saves)', async () => {
    const { client, sent } = edgeClient(ARCHIVE_S3_CLIENT_CONFIG);
    await client.send(
      new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1, Body: body }),
    );
    expect(sent[0]?.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it("a single put keeps its Content-MD5, which S3 checks, and the store's client signs unsigned", async () => {
    const { client, sent } = edgeClient(ARCHIVE_S3_CLIENT_CONFIG);
    new S3ObjectStore({ client, bucket: 'b' });
    new S3ObjectStore({ client, bucket: 'b' }); // a second store on the same client adds nothing twice
    const md5 = createHash('md5').update(body).digest('base64');
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: body, ContentMD5: md5 }));
    expect(sent[0]?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(sent[0]?.headers['content-md5']).toBe(md5);
    expect(checksumHeaders(sent[0]?.headers ?? {})).toEqual([]);
  });

  it('the SDK default would add a CRC32 of every part: the archive config turns it off', async () => {
    const { client, sent } = edgeClient();
    signWithUnsignedPayload(client);
    await client.send(
      new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1, Body: body }),
    );
    expect(checksumHeaders(sent[0]?.headers ?? {})).toEqual(['x-amz-checksum-crc32']);
    expect(sent[0]?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  });
});
