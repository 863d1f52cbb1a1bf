/**
 * An S3 that stores nothing: the handful of operations a lib-storage upload and `S3ObjectStore`
 * make (PutObject, multipart create/part/complete, HeadObject, same-key CopyObject), answered from
 * memory after reading and discarding the body. It settles whether the local S3 (s3rver) or the
 * client's own CPU limits the archive rate: the same transfer into both, same run.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NullS3 {
  readonly endpoint: string;
  stop(): Promise<void>;
}

async function drain(req: IncomingMessage): Promise<number> {
  let bytes = 0;
  for await (const chunk of req) bytes += (chunk as Buffer).length;
  return bytes;
}

export async function startNullS3(): Promise<NullS3> {
  const sizes = new Map<string, number>();
  const parts = new Map<string, number>();
  const etag = `"${'0'.repeat(32)}"`;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3');
    const key = decodeURIComponent(url.pathname);
    const uploadId = url.searchParams.get('uploadId');
    const xml = (body: string) => {
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
    };
    if (req.method === 'PUT' && req.headers['x-amz-copy-source'] !== undefined) {
      await drain(req);
      return xml(
        `<CopyObjectResult><ETag>${etag}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyObjectResult>`,
      );
    }
    if (req.method === 'PUT') {
      const bytes = await drain(req);
      if (uploadId !== null) parts.set(uploadId, (parts.get(uploadId) ?? 0) + bytes);
      else sizes.set(key, bytes);
      res.writeHead(200, { ETag: etag });
      return res.end();
    }
    if (req.method === 'POST' && url.searchParams.has('uploads')) {
      const id = randomUUID();
      parts.set(id, 0);
      const [, bucket, ...rest] = key.split('/');
      return xml(
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${rest.join('/')}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    if (req.method === 'POST' && uploadId !== null) {
      await drain(req);
      sizes.set(key, parts.get(uploadId) ?? 0);
      parts.delete(uploadId);
      return xml(
        `<CompleteMultipartUploadResult><Key>${key}</Key><ETag>${etag}</ETag></CompleteMultipartUploadResult>`,
      );
    }
    if (req.method === 'HEAD') {
      const size = sizes.get(key);
      res.writeHead(size === undefined ? 404 : 200, {
        'Content-Length': String(size ?? 0),
        ETag: etag,
        'Last-Modified': new Date().toUTCString(),
      });
      return res.end();
    }
    await drain(req);
    res.writeHead(501);
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
