/**
 * Concurrent requests through the SDK clients as the local runtime builds them each go out with
 * their own input: their own bucket and key, their own item.
 *
 * What this guards: the SDK's `cacheMiddleware: true` option saves the middleware stack's
 * resolution per command (about 0.05 ms of CPU per S3 PutObject, 0.03 per document-client Put;
 * docs/benchmarks.md, "The SDK's client CPU per request"), but in the SDK versions this repository
 * uses it resolves one stack per command class around one shared handler context: concurrent
 * commands overwrite each other's resolved endpoint (a PutObject to one bucket goes out to
 * another's), and lib-dynamodb's commands resend the first command's input. The runtime has
 * several requests in flight per client, so the option must stay off; this test fails with it on.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { signWithUnsignedPayload } from '#adapters/aws/s3-unsigned-payload.ts';
import { localClientConfig, localS3ClientConfig } from '#local/servers/client-config.ts';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Records every request and answers 200 after a random few milliseconds, so requests overlap. */
async function startRecordingServer(
  answer: (request: Received) => { headers: Record<string, string>; body: string },
) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      const { headers, body } = answer(request);
      setTimeout(() => res.writeHead(200, headers).end(body), Math.random() * 4);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { endpoint: `http://127.0.0.1:${port}`, received };
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const CONCURRENT = 60;

describe('concurrent SDK requests each carry their own input', () => {
  it('S3 PutObjects to two buckets each reach their own bucket and key', async () => {
    const server = await startRecordingServer(() => ({ headers: { etag: '"e"' }, body: '' }));
    const config = localS3ClientConfig(server.endpoint);
    const client = new S3Client(config);
    signWithUnsignedPayload(client);
    const expected = Array.from({ length: CONCURRENT }, (_, i) => ({
      bucket: i % 3 === 0 ? 'archive-a' : 'archive-b',
      key: `originals/${i}.jpg`,
      body: `photo ${i}`,
    }));
    try {
      await Promise.all(
        expected.map(({ bucket, key, body }) =>
          client.send(
            new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'image/jpeg' }),
          ),
        ),
      );
    } finally {
      client.destroy();
    }
    const byBody = new Map(server.received.map((r) => [r.body, r]));
    for (const { bucket, key, body } of expected) {
      const request = byBody.get(body);
      expect(request?.url, body).toBe(`/${bucket}/${key}?x-id=PutObject`);
      expect(request?.headers['authorization'], body).toMatch(/^AWS4-HMAC-SHA256 Credential=S3RVER\//);
    }
    expect(server.received).toHaveLength(CONCURRENT);
  });

  it('document-client Puts each send their own item', async () => {
    const server = await startRecordingServer(() => ({
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: '{}',
    }));
    const dynamodb = new DynamoDBClient(localClientConfig(server.endpoint));
    const document = DynamoDBDocumentClient.from(dynamodb, {
      marshallOptions: { removeUndefinedValues: true },
    });
    try {
      await Promise.all(
        Array.from({ length: CONCURRENT }, (_, i) =>
          document.send(new PutCommand({ TableName: `table-${i % 2}`, Item: { pk: `asset#${i}`, n: i } })),
        ),
      );
    } finally {
      dynamodb.destroy();
    }
    const sent = server.received.map(
      (r) => JSON.parse(r.body) as { TableName: string; Item: { pk: { S: string } } },
    );
    expect(sent.map((s) => s.Item.pk.S).sort()).toEqual(
      Array.from({ length: CONCURRENT }, (_, i) => `asset#${i}`).sort(),
    );
    for (const s of sent) expect(s.TableName).toBe(`table-${Number(s.Item.pk.S.split('#')[1]) % 2}`);
  });
});
