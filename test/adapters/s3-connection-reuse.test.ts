/**
 * The archive's S3 clients, as the product builds them, send their uploads over kept-alive
 * connections: a photo of 2 MiB or more and every part of a video go out on a connection the
 * client already has, not on a new one each (in Lambda a new TCP connection and a full TLS
 * handshake per photo or part).
 *
 * What this guards: the S3 client adds `Expect: 100-continue` to every request whose body is at
 * least 2 MiB (its `expectContinueHeader` default), and the SDK's Node handler sends such a request
 * on an agent of its own, created for that one request without keep-alive. The connections are
 * counted by a TCP proxy in front of the local S3.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import { ARCHIVE_S3_CLIENT_CONFIG } from '#compose/archive-s3-client.ts';
import { localArchiveS3ClientConfig } from '#compose/local-aws-stack.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { localS3ClientConfig } from '#local/servers/client-config.ts';
import { type LocalS3Server, startS3Server } from '#local/servers/s3-server.ts';
import { PIPELINE_DEFAULTS } from '#shared/config.ts';
import { generatedDigest, generatedStream } from '#test/fakes/generated-stream.ts';

const MIB = 1024 * 1024;
const BUCKET = 'archive';

interface CountingProxy {
  readonly endpoint: string;
  /** TCP connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

/** Forwards every connection to `target` unchanged, counting them. */
async function startCountingProxy(target: string): Promise<CountingProxy> {
  const { hostname, port } = new URL(target);
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect(Number(port), hostname);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    connections: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

let dir: string;
let server: LocalS3Server;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-connection-reuse-'));
  server = await startS3Server({ directory: dir });
  const client = new S3Client(localS3ClientConfig(server.endpoint));
  try {
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  } finally {
    client.destroy();
  }
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The S3 client settings of each runtime, pointed at `endpoint`. Lambda's client is
 * `ARCHIVE_S3_CLIENT_CONFIG` (compose/lambda.ts); here the local server's address and keys go
 * under it. The local runtime's is what compose/local-aws-stack.ts builds.
 */
const RUNTIMES: readonly { name: string; config: (endpoint: string) => S3ClientConfig }[] = [
  {
    name: "Lambda's",
    config: (endpoint) => ({ ...localS3ClientConfig(endpoint), ...ARCHIVE_S3_CLIENT_CONFIG }),
  },
  { name: "the local runtime's", config: (endpoint) => localArchiveS3ClientConfig(endpoint) },
];

/** Runs `work` with an archive store on a client of `config` behind a fresh counting proxy. */
async function countingConnections(
  config: (endpoint: string) => S3ClientConfig,
  work: (store: S3ArchivingObjectStore) => Promise<void>,
): Promise<number> {
  const proxy = await startCountingProxy(server.endpoint);
  const client = new S3Client(config(proxy.endpoint));
  try {
    await work(new S3ArchivingObjectStore({ client, bucket: BUCKET }));
    return proxy.connections();
  } finally {
    client.destroy();
    await proxy.stop();
  }
}

async function put(store: S3ArchivingObjectStore, key: string, size: number) {
  const result = await store.putStream(key, generatedStream(size).stream, {
    contentType: 'image/heic',
    contentLength: size,
    metadata: mtimeMetadata(1_700_000_000_000),
  });
  expect(result).toMatchObject({ size, md5: generatedDigest(size, 'md5') });
  return result;
}

for (const { name, config } of RUNTIMES)
  describe(`${name} archive S3 client`, () => {
    it('sends one photo of 3 MiB after another over the same connection', async () => {
      const photos = 6;
      const connections = await countingConnections(config, async (store) => {
        for (let i = 0; i < photos; i++) {
          const result = await put(store, `reuse/photo-${i}.HEIC`, 3 * MIB);
          expect(result.multipart).toBe(false);
        }
      });
      // One connection, a second at most if a response ends after the next request starts.
      expect(connections).toBeLessThanOrEqual(2);
    });

    it('sends the parts of a 64 MiB video over at most queueSize connections', async () => {
      const { uploadQueueSize, uploadPartSizeMiB } = PIPELINE_DEFAULTS;
      const size = 64 * MIB;
      // Twice as many parts as the upload sends at once.
      expect(size / (uploadPartSizeMiB * MIB)).toBeGreaterThanOrEqual(2 * uploadQueueSize);
      const connections = await countingConnections(config, async (store) => {
        const result = await put(store, 'reuse/video.MOV', size);
        expect(result.multipart).toBe(true);
      });
      // queueSize parts in flight at once, beside the create, complete and copy requests.
      expect(connections).toBeLessThanOrEqual(uploadQueueSize + 1);
    });
  });
