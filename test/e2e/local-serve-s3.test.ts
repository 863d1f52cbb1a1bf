import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable as ReadableStream } from 'node:stream';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
const KEYS = [
  'library/2023/2023-12-31/IMG_0100.JPG',
  'library/2024/2024-07-14/IMG_0001.HEIC',
  'library/2024/2024-07-14/IMG_0001_HEVC.MOV',
  'library/2024/2024-07-15/IMG_0002.HEIC',
];
const CAPTURED = Date.UTC(2024, 6, 14, 10, 0, 0, 500);

type Server = ChildProcessByStdio<null, ReadableStream, ReadableStream>;
interface Served {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

let dir: string;
let dataDir: string;
let server: Server;
let served: Served;
let s3: S3Client;

function startServe(args: readonly string[]): Server {
  return spawn(process.execPath, ['--import', 'tsx', CLI, 'local', 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function firstLine(child: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`local serve exited with ${code}`)));
  });
}

function exitCode(child: Server): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-serve-'));
  dataDir = join(dir, 'archive');
  const stack = await openLocalAwsStack({ dataDir });
  try {
    for (const key of KEYS) {
      const body = Buffer.from(`bytes of ${key}`);
      await stack.objects.putStream(key, Readable.from([body]), {
        contentType: 'image/heic',
        contentLength: body.length,
        metadata: mtimeMetadata(CAPTURED),
      });
    }
  } finally {
    await stack.stop();
  }
  server = startServe(['--local', dataDir]);
  served = JSON.parse(await firstLine(server)) as Served;
  s3 = new S3Client({
    endpoint: served.endpoint,
    region: served.region,
    forcePathStyle: true,
    credentials: { accessKeyId: served.accessKeyId, secretAccessKey: served.secretAccessKey },
  });
});

afterAll(async () => {
  s3?.destroy();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await exitCode(server);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('icloud-s3 local serve', () => {
  it('prints its status, the endpoint, bucket, region and key pair as JSON on its first line', () => {
    expect(served).toEqual({
      status: 'serving',
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      bucket: 'icloud-s3-archive',
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
  });

  it('serves objects with the metadata rclone reads (mtime, md5chksum)', async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: served.bucket, Key: KEYS[1] }));

    expect(await got.Body?.transformToString()).toBe(`bytes of ${KEYS[1]}`);
    expect(got.Metadata?.['mtime']).toBe('1720951200.5');
    expect(got.Metadata?.['md5chksum']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });

  it('lists folder by folder: a folder holding only folders shows them as common prefixes', async () => {
    const top = await s3.send(new ListObjectsV2Command({ Bucket: served.bucket, Delimiter: '/' }));
    const years = await s3.send(
      new ListObjectsV2Command({ Bucket: served.bucket, Delimiter: '/', Prefix: 'library/' }),
    );
    const day = await s3.send(
      new ListObjectsCommand({ Bucket: served.bucket, Delimiter: '/', Prefix: 'library/2024/2024-07-14/' }),
    );

    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['library/']);
    expect(top.Contents ?? []).toEqual([]);
    expect(years.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['library/2023/', 'library/2024/']);
    expect(day.Contents?.map((c) => c.Key)).toEqual([KEYS[1], KEYS[2]]);
    expect(day.CommonPrefixes ?? []).toEqual([]);
  });

  it('lists every key in one recursive listing', async () => {
    const all = await s3.send(new ListObjectsV2Command({ Bucket: served.bucket }));

    expect(all.Contents?.map((c) => c.Key)).toEqual(KEYS);
  });

  it('refuses writes with AccessDenied and leaves the archive as it was', async () => {
    const [put, del] = await Promise.allSettled([
      s3.send(new PutObjectCommand({ Bucket: served.bucket, Key: 'library/new.jpg', Body: 'x' })),
      s3.send(new DeleteObjectCommand({ Bucket: served.bucket, Key: KEYS[0] })),
    ]);

    expect(put).toMatchObject({
      status: 'rejected',
      reason: { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
    });
    expect(del).toMatchObject({ status: 'rejected', reason: { name: 'AccessDenied' } });
    const all = await s3.send(new ListObjectsV2Command({ Bucket: served.bucket }));
    expect(all.Contents?.map((c) => c.Key)).toEqual(KEYS);
  });

  it('listens on the port given with --port and exits 0 on SIGINT', async () => {
    const port = await freePort();
    const child = startServe(['--local', dataDir, '--port', String(port)]);
    const info = JSON.parse(await firstLine(child)) as Served;

    child.kill('SIGINT');

    expect(info.endpoint).toBe(`http://127.0.0.1:${port}`);
    expect(await exitCode(child)).toBe(0);
  });

  it('exits 0 on SIGTERM', async () => {
    const child = startServe(['--local', dataDir]);
    await firstLine(child);

    child.kill('SIGTERM');

    expect(await exitCode(child)).toBe(0);
  });

  it('exits 2 with a usage error naming the port when --port is already taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const child = startServe(['--local', dataDir, '--port', String(port), '--json']);
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });

      expect(await exitCode(child)).toBe(2);
      expect(JSON.parse(stdout)).toEqual({
        status: 'error',
        error: {
          code: 'usage',
          message: `port ${port} on 127.0.0.1 is already in use`,
          hint: 'Pick another --port, or leave --port out to get a free one.',
        },
        exitCode: 2,
      });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('exits 2 and prints nothing on stdout when the folder holds no archive', async () => {
    const child = startServe(['--local', join(dir, 'nothing-here')]);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });

    expect(await exitCode(child)).toBe(2);
    expect(stdout).toBe('');
  });
});
