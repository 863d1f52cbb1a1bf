import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CopyObjectCommand, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import { type LocalS3Server, startS3Server } from '#local/servers/s3-server.ts';
import { generatedDigest, generatedStream } from '#test/fakes/generated-stream.ts';

const BUCKET = 'archive';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-crash-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function clientFor(endpoint: string): S3Client {
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  cleanup.push(async () => client.destroy());
  return client;
}

async function start(
  directory: string,
): Promise<{ server: LocalS3Server; store: S3ObjectStore; client: S3Client }> {
  const server = await startS3Server({ directory });
  cleanup.push(() => server.stop());
  const client = clientFor(server.endpoint);
  return { server, client, store: new S3ObjectStore({ client, bucket: BUCKET }) };
}

async function put(store: S3ObjectStore, key: string, size: number): Promise<void> {
  await store.putStream(key, generatedStream(size).stream, {
    contentType: 'image/jpeg',
    contentLength: size,
    metadata: mtimeMetadata(1_700_000_000_000),
  });
}

async function listKeys(store: S3ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list('')) keys.push(object.key);
  return keys;
}

/** Every file under `dir`, relative, sorted. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const objectFile = (dir: string, key: string, resource: string) =>
  path.join(dir, BUCKET, `${key}._S3rver_${resource}`);

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Bytes of the key's files on disk other than its committed object: what a PUT in progress wrote. */
async function bytesInFlight(dir: string, key: string): Promise<number> {
  const folder = path.dirname(objectFile(dir, key, 'object'));
  const base = path.basename(key);
  const names = await readdir(folder).catch(() => [] as string[]);
  let bytes = 0;
  for (const name of names) {
    if (!name.startsWith(base) || name.endsWith('.md5') || name.endsWith('.json')) continue;
    bytes += (await stat(path.join(folder, name)).catch(() => ({ size: 0 }))).size;
  }
  return bytes;
}

/**
 * Runs test/helpers/s3-crash-client.ts (the stand-in for `sync`): it archives `firstSize` bytes
 * at `key`, then overwrites it with `secondSize` bytes that stall after `stallAfter`. Resolves
 * once the server has written part of the overwrite to disk.
 */
async function crashClient(
  dir: string,
  key: string,
  sizes: { first: number; second: number; stallAfter: number },
) {
  const require = createRequire(import.meta.url);
  const helper = path.join(import.meta.dirname, '../helpers/s3-crash-client.ts');
  const args = [dir, BUCKET, key, String(sizes.first), String(sizes.second), String(sizes.stallAfter)];
  const parent = spawn(process.execPath, ['--import', require.resolve('tsx'), helper, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup.push(async () => {
    parent.kill('SIGKILL');
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: parent.stdout }).once('line', resolve);
    parent.once('exit', () => reject(new Error('the crash client exited before its PUT started')));
  });
  const { childPid } = JSON.parse(line) as { endpoint: string; childPid: number };
  cleanup.push(async () => {
    if (alive(childPid)) process.kill(childPid, 'SIGKILL');
  });
  await waitFor(
    async () => (await bytesInFlight(dir, key)) > sizes.first + sizes.stallAfter / 2,
    'the overwrite to reach the disk',
  );
  return { parentPid: parent.pid as number, childPid };
}

describe('local S3 after a crash', () => {
  it('drops an object whose metadata a crash left empty, names it, and serves the rest', async () => {
    const dir = await dataDir();
    const first = await start(dir);
    await first.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await put(first.store, '2024/01/IMG_1.JPG', 1000);
    await put(first.store, '2024/01/IMG_2.JPG', 2000);
    await first.server.stop();
    // What SIGKILL of the sync process left behind in the field (issue 11, item 4).
    await writeFile(objectFile(dir, '2024/01/IMG_1.JPG', 'metadata.json'), '');
    // And an object file whose metadata was never written (the old writer wrote the object first).
    await writeFile(objectFile(dir, '2024/01/IMG_3.JPG', 'object'), Buffer.alloc(300));

    const second = await start(dir);
    expect(await listKeys(second.store)).toEqual(['2024/01/IMG_2.JPG']);
    expect(await second.store.head('2024/01/IMG_1.JPG')).toBeUndefined();
    expect((await second.store.head('2024/01/IMG_2.JPG'))?.md5Base64).toBe(
      Buffer.from(generatedDigest(2000, 'md5'), 'hex').toString('base64'),
    );
    expect(second.server.repairs).toEqual(
      expect.arrayContaining([
        {
          action: 'droppedObject',
          bucket: BUCKET,
          key: '2024/01/IMG_1.JPG',
          reason: 'its metadata file is empty',
        },
        {
          action: 'droppedObject',
          bucket: BUCKET,
          key: '2024/01/IMG_3.JPG',
          reason: 'it has no metadata file',
        },
      ]),
    );
    // The next sync can archive it again.
    await put(second.store, '2024/01/IMG_1.JPG', 1000);
    expect(await listKeys(second.store)).toEqual(['2024/01/IMG_1.JPG', '2024/01/IMG_2.JPG']);
  });

  it('removes tags a crash left without their object, so a later object at that key starts untagged', async () => {
    const dir = await dataDir();
    const first = await start(dir);
    await first.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await put(first.store, 'b/IMG_1.JPG', 1000);
    await first.server.stop();
    // The atomic store writes an object's tags just before its object file: a kill in between, on a new key.
    const tags =
      '<Tagging><TagSet><Tag><Key>icloud-s3-staging</Key><Value>1</Value></Tag></TagSet></Tagging>';
    await writeFile(objectFile(dir, 'b/IMG_2.JPG', 'tagging.xml'), tags);
    // And an object dropped for its metadata: its tags go with it.
    await writeFile(objectFile(dir, 'b/IMG_1.JPG', 'tagging.xml'), tags);
    await writeFile(objectFile(dir, 'b/IMG_1.JPG', 'metadata.json'), '');
    const second = await start(dir);
    expect(await readdir(path.join(dir, BUCKET, 'b'))).toEqual([]);
    expect(second.server.repairs).toEqual(
      expect.arrayContaining([
        {
          action: 'removedOrphanMetadata',
          bucket: BUCKET,
          key: 'b/IMG_2.JPG',
          reason: 'tags without an object',
        },
      ]),
    );
  });

  it('rebuilds a cut-short .md5 instead of serving an empty ETag', async () => {
    const dir = await dataDir();
    const first = await start(dir);
    await first.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await put(first.store, 'a/IMG.JPG', 1000);
    await first.server.stop();
    await writeFile(objectFile(dir, 'a/IMG.JPG', 'object.md5'), '');
    const second = await start(dir);
    expect((await second.store.head('a/IMG.JPG'))?.etag).toBe(generatedDigest(1000, 'md5'));
  });

  it("keeps a multipart upload's ETag (`<hex>-<parts>`) across a restart, and gives its copy the MD5", async () => {
    const dir = await dataDir();
    const first = await start(dir);
    await first.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const etag = 'e0ee8e7ae0fd8b1a4f8f4a8ab0a9a5b1-3';
    await put(first.store, 'a/IMG.JPG', 1000);
    await first.server.stop();
    // As the store writes a completed upload's (local-s3-etags.test.ts has the upload itself).
    await writeFile(objectFile(dir, 'a/IMG.JPG', 'object.md5'), etag);
    const second = await start(dir);
    expect(second.server.repairs).toEqual([]);
    expect((await second.store.head('a/IMG.JPG'))?.etag).toBe(etag);
    // Its copy's ETag, the MD5 of its bytes, is read from them: the restart forgot the one hashed
    // at its assembly.
    const copied = await second.client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'a/IMG.JPG',
        CopySource: `${BUCKET}/a/IMG.JPG`,
        MetadataDirective: 'REPLACE',
      }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(`"${generatedDigest(1000, 'md5')}"`);
  });

  it('still copies an object to another key, keeping or replacing its metadata (atomic writes)', async () => {
    const dir = await dataDir();
    const { client, store } = await start(dir);
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await store.putStream('src/IMG.JPG', generatedStream(5000).stream, {
      contentType: 'image/jpeg',
      contentLength: 5000,
      metadata: { ...mtimeMetadata(1_700_000_000_000), 'icloud-asset': 'A1' },
    });
    const source = `${BUCKET}/src/IMG.JPG`;
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/kept.JPG', CopySource: source }));
    await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy/replaced.JPG',
        CopySource: source,
        MetadataDirective: 'REPLACE',
        ContentType: 'image/jpeg',
        Metadata: { 'icloud-asset': 'A2' },
      }),
    );
    const md5 = generatedDigest(5000, 'md5');
    expect(await store.head('copy/kept.JPG')).toMatchObject({
      size: 5000,
      etag: md5,
      contentType: 'image/jpeg',
      metadata: expect.objectContaining({ 'icloud-asset': 'A1', mtime: '1700000000' }),
    });
    expect(await store.head('copy/replaced.JPG')).toMatchObject({
      size: 5000,
      etag: md5,
      metadata: { 'icloud-asset': 'A2' },
    });
    expect((await filesIn(dir)).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('keeps the previous object whole when the S3 child is SIGKILLed mid-PUT', async () => {
    const dir = await dataDir();
    const key = '2024/02/VIDEO.MOV';
    const { parentPid, childPid } = await crashClient(dir, key, {
      first: 100_000,
      second: 4_000_000,
      stallAfter: 1_000_000,
    });
    process.kill(childPid, 'SIGKILL');
    await waitFor(async () => !alive(childPid), 'the S3 child to die');
    process.kill(parentPid, 'SIGKILL');

    const second = await start(dir);
    expect(await listKeys(second.store)).toEqual([key]);
    expect(await second.store.head(key)).toMatchObject({
      size: 100_000,
      etag: generatedDigest(100_000, 'md5'),
    });
    const body = await readFile(objectFile(dir, key, 'object'));
    expect(createHash('md5').update(body).digest('hex')).toBe(generatedDigest(100_000, 'md5'));
    expect((await filesIn(dir)).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('discards the write in progress when the sync process alone is SIGKILLed, then exits', async () => {
    const dir = await dataDir();
    const key = '2024/03/IMG_9.HEIC';
    const { parentPid, childPid } = await crashClient(dir, key, {
      first: 50_000,
      second: 4_000_000,
      stallAfter: 1_000_000,
    });
    process.kill(parentPid, 'SIGKILL');
    await waitFor(async () => !alive(childPid), 'the S3 child to exit after its parent died');

    const second = await start(dir);
    expect(await second.store.head(key)).toMatchObject({
      size: 50_000,
      etag: generatedDigest(50_000, 'md5'),
    });
    expect(second.server.repairs.filter((r) => r.action === 'droppedObject')).toEqual([]);
    expect((await filesIn(dir)).filter((f) => f.includes('partial'))).toEqual([]);
  });
});
