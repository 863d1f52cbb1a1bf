/**
 * The NAS recipe of docs/rclone.md, end to end: objects written by the real S3ObjectStore (single
 * part, and multipart with `md5chksum`), served by `icloud-s3 local serve`, mirrored by rclone
 * configured purely from environment variables. Needs rclone on PATH (.ci/run installs Debian's).
 */

import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable as ReadableStream } from 'node:stream';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');

interface Fixture {
  readonly key: string;
  readonly body: Buffer;
  readonly modifiedTime: number;
}

const FIXTURES: readonly Fixture[] = [
  {
    key: 'library/2024/2024-07-14/IMG_0001.HEIC',
    body: randomBytes(40_000),
    modifiedTime: Date.UTC(2024, 6, 14, 10, 0, 0, 500),
  },
  {
    key: 'library/2024/2024-07-14/IMG_0001_HEVC.MOV',
    body: randomBytes(70_000),
    modifiedTime: Date.UTC(2024, 6, 14, 10, 0, 0, 500),
  },
  {
    key: 'library/2023/2023-12-31/Café screenshot 1.PNG',
    body: randomBytes(1_234),
    modifiedTime: Date.UTC(2023, 11, 31, 23, 59, 58, 7),
  },
  {
    key: 'library/2022/2022-05-01/VID_0002.MOV',
    body: randomBytes(MIN_PART_SIZE + 1_000_000),
    modifiedTime: Date.UTC(2022, 4, 1, 8, 30),
  },
];

interface Served {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

let dir: string;
let dataDir: string;
let server: ChildProcessByStdio<null, ReadableStream, ReadableStream>;
let served: Served;
const multipart = new Map<string, boolean>();

function rclone(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // rclone 1.60's AWS SDK fails on AWS_CA_BUNDLE ("LoadCustomCABundleError"); the remote is
  // configured entirely below, so no AWS_* variable of the machine may leak in.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
  );
  const env = {
    ...inherited,
    RCLONE_CONFIG: join(dir, 'rclone.conf'),
    RCLONE_CONFIG_ICS3_TYPE: 's3',
    RCLONE_CONFIG_ICS3_PROVIDER: 'Other',
    RCLONE_CONFIG_ICS3_ENDPOINT: served.endpoint,
    RCLONE_CONFIG_ICS3_ACCESS_KEY_ID: served.accessKeyId,
    RCLONE_CONFIG_ICS3_SECRET_ACCESS_KEY: served.secretAccessKey,
    RCLONE_CONFIG_ICS3_REGION: served.region,
    RCLONE_CONFIG_ICS3_FORCE_PATH_STYLE: 'true',
  };
  return new Promise((resolve) => {
    execFile('rclone', [...args], { env, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-rclone-'));
  dataDir = join(dir, 'archive');
  const stack = await openLocalAwsStack({ dataDir, partSizeMiB: MIN_PART_SIZE / (1024 * 1024) });
  try {
    for (const fixture of FIXTURES) {
      const result = await stack.objects.putStream(fixture.key, Readable.from([fixture.body]), {
        contentType: 'application/octet-stream',
        contentLength: fixture.body.length,
        metadata: mtimeMetadata(fixture.modifiedTime),
      });
      multipart.set(fixture.key, result.multipart);
    }
  } finally {
    await stack.stop();
  }
  server = spawn(process.execPath, ['--import', 'tsx', CLI, 'local', 'serve', '--local', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server.stdout });
    lines.once('line', resolve);
    server.once('exit', (code) => reject(new Error(`local serve exited with ${code} before serving`)));
  });
  served = JSON.parse(firstLine) as Served;
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('rclone mirrors the served archive to a folder', () => {
  it('has rclone on PATH (.ci/run installs it: apt-get install -y rclone)', async () => {
    const { code, stdout } = await rclone(['version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^rclone v1\./);
  });

  it('writes one object as a multipart upload, so the metadata copy and md5chksum are exercised', () => {
    expect([...multipart.values()]).toEqual([false, false, false, true]);
  });

  it('copies every object with its bytes and its capture time as mtime', async () => {
    const target = join(dir, 'nas');

    const { code, stderr } = await rclone(['copy', `ics3:${served.bucket}`, target]);

    expect(stderr).not.toMatch(/ERROR/);
    expect(code).toBe(0);
    for (const fixture of FIXTURES) {
      const path = join(target, fixture.key);
      const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
      expect(digest(await readFile(path))).toBe(digest(fixture.body));
      expect((await stat(path)).mtimeMs).toBe(fixture.modifiedTime);
    }
  });

  it('passes rclone check: sizes and MD5s of every file, none left unchecked', async () => {
    const target = join(dir, 'nas');

    const { code, stderr } = await rclone(['check', `ics3:${served.bucket}`, target]);

    expect(stderr).toMatch(/0 differences found/);
    expect(stderr).toMatch(new RegExp(`${FIXTURES.length} matching files`));
    expect(stderr).not.toMatch(/hashes could not be checked/);
    expect(code).toBe(0);
  });

  it('reports the MD5 of the multipart object: its ETag (the metadata copy gave it the MD5, as S3 does), and md5chksum under SSE-KMS', async () => {
    const big = FIXTURES[3]!;
    const md5 = createHash('md5').update(big.body).digest('hex');

    const fromEtag = await rclone(['md5sum', `ics3:${served.bucket}/${big.key}`]);
    // With SSE-KMS configured rclone takes no ETag for an MD5 and reads the object's md5chksum.
    const fromMetadata = await rclone([
      'md5sum',
      '--s3-server-side-encryption',
      'aws:kms',
      `ics3:${served.bucket}/${big.key}`,
    ]);

    expect(fromEtag.stdout.split(/\s+/)[0]).toBe(md5);
    expect(fromMetadata.stdout.split(/\s+/)[0]).toBe(md5);
  });

  it('copies nothing the second time: mtimes and sizes already agree', async () => {
    const { code, stderr } = await rclone(['copy', '-v', `ics3:${served.bucket}`, join(dir, 'nas')]);

    expect(code).toBe(0);
    expect(stderr).not.toMatch(/: Copied/);
  });
});
