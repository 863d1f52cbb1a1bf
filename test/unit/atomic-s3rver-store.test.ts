/**
 * The local S3's crash-safe writes (functions/local/servers/atomic-s3rver-store.ts), in process:
 * every file of an object is written under a temporary name, fsynced, then renamed into place,
 * metadata first, the object next, its `.md5` last, whether the body is small (held whole) or
 * streamed. The kill tests are test/adapters/local-s3-crash-safety.test.ts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  makeWritesAtomic,
  type S3rverFilesystemStore,
  SMALL_OBJECT_BYTES,
  TEMP_MARK,
} from '#local/servers/atomic-s3rver-store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-atomic-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** s3rver's FilesystemStore as far as the atomic writes use it (its file names included). */
function s3rverLikeStore(): S3rverFilesystemStore {
  const untouched = () => Promise.reject(new Error('not replaced'));
  return {
    getBucketPath: (bucket) => path.join(dir, bucket),
    getResourcePath: (bucket, key, resource) => path.join(dir, bucket, `${key}._S3rver_${resource}`),
    getMetadata: untouched,
    putObject: untouched,
    putMetadata: untouched,
    copyObject: untouched,
    deleteObject: untouched,
    putObjectMultipart: untouched,
    putPart: untouched,
  };
}

/** A request body as s3rver hands it over: the request stream, its headers giving the length. */
function requestBody(bytes: Buffer, chunkSize = 16 * 1024, declared = bytes.length) {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
  return Object.assign(Readable.from(chunks), { headers: { 'content-length': String(declared) } });
}

/** Each fsync (by the file its descriptor was opened on) and each rename, in order. */
function watchDurability() {
  const events: string[] = [];
  const opened = new Map<number, string>();
  const openSync = fs.openSync;
  vi.spyOn(fs, 'openSync').mockImplementation((...args: Parameters<typeof fs.openSync>) => {
    const fd = openSync(...args);
    opened.set(fd, path.basename(String(args[0])));
    return fd;
  });
  const fsync = fs.fsync;
  vi.spyOn(fs, 'fsync').mockImplementation((fd, callback) => {
    events.push(`fsync ${opened.get(fd) ?? 'stream'}`);
    fsync(fd, callback);
  });
  const renameSync = fs.renameSync;
  vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
    events.push(`rename ${path.basename(String(from))} -> ${path.basename(String(to))}`);
    renameSync(from, to);
  });
  return events;
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const named = (event: string) => event.replace(new RegExp(`${TEMP_MARK}[0-9a-f]+`, 'g'), '~');

describe('the local S3 atomic store', () => {
  it("fsyncs each of a small object's files before renaming it into place: metadata, object, md5", async () => {
    const store = s3rverLikeStore();
    makeWritesAtomic(store);
    const events = watchDurability();
    const body = Buffer.from('{"id":"A"}\n'.repeat(90));
    const result = await store.putObject({
      bucket: 'archive',
      key: 'catalog/assets/0a1.jsonl',
      content: requestBody(body, 256),
      metadata: { 'content-type': 'application/x-ndjson', 'x-amz-meta-md5chksum': 'x', host: 'dropped' },
    });

    expect(result).toEqual({ size: body.length, md5: md5(body) });
    const object = '0a1.jsonl._S3rver_object';
    const metadata = '0a1.jsonl._S3rver_metadata.json';
    expect(events.map(named)).toEqual([
      `fsync ${object}~`,
      `fsync ${metadata}~`,
      `rename ${metadata}~ -> ${metadata}`,
      `rename ${object}~ -> ${object}`,
      `fsync ${object}.md5~`,
      `rename ${object}.md5~ -> ${object}.md5`,
    ]);
    const files = path.join(dir, 'archive', 'catalog', 'assets');
    expect(await readFile(path.join(files, object))).toEqual(body);
    expect(await readFile(path.join(files, `${object}.md5`), 'utf8')).toBe(md5(body));
    expect(JSON.parse(await readFile(path.join(files, metadata), 'utf8'))).toEqual({
      'content-type': 'application/x-ndjson',
      'x-amz-meta-md5chksum': 'x',
    });
    expect((await readdir(files)).filter((f) => f.includes(TEMP_MARK))).toEqual([]);
  });

  it('streams a body larger than a small one to disk, with the same order and bytes', async () => {
    const store = s3rverLikeStore();
    makeWritesAtomic(store);
    const events = watchDurability();
    const body = Buffer.alloc(SMALL_OBJECT_BYTES * 3 + 7, 'photo');
    const result = await store.putObject({
      bucket: 'archive',
      key: '2024/IMG_1.JPG',
      content: requestBody(body),
      metadata: { 'content-type': 'image/jpeg' },
    });

    expect(result).toEqual({ size: body.length, md5: md5(body) });
    expect(events.map(named).filter((e) => e.startsWith('rename'))).toEqual([
      'rename IMG_1.JPG._S3rver_metadata.json~ -> IMG_1.JPG._S3rver_metadata.json',
      'rename IMG_1.JPG._S3rver_object~ -> IMG_1.JPG._S3rver_object',
      'rename IMG_1.JPG._S3rver_object.md5~ -> IMG_1.JPG._S3rver_object.md5',
    ]);
    expect(await readFile(path.join(dir, 'archive', '2024', 'IMG_1.JPG._S3rver_object'))).toEqual(body);
  });

  it('refuses a small body that runs past its declared length, leaving the old object and no temporary file', async () => {
    const store = s3rverLikeStore();
    makeWritesAtomic(store);
    const key = 'catalog/assets/0b2.jsonl';
    const old = Buffer.from('old\n');
    await store.putObject({ bucket: 'archive', key, content: requestBody(old), metadata: {} });

    const longer = Buffer.alloc(SMALL_OBJECT_BYTES + 1, 'x');
    await expect(
      store.putObject({ bucket: 'archive', key, content: requestBody(longer, 1024, 10), metadata: {} }),
    ).rejects.toThrow(/longer than its content-length/);
    const files = path.join(dir, 'archive', 'catalog', 'assets');
    expect(await readFile(path.join(files, '0b2.jsonl._S3rver_object'))).toEqual(old);
    expect((await readdir(files)).filter((f) => f.includes(TEMP_MARK))).toEqual([]);
  });
  it('writes a part under a temporary name, fsynced, and keeps the one there when a retry does not match its Content-MD5', async () => {
    const store = s3rverLikeStore();
    makeWritesAtomic(store);
    const events = watchDurability();
    const withMd5 = (bytes: Buffer, declared: Buffer) => {
      const content = requestBody(bytes);
      const contentMd5 = createHash('md5').update(declared).digest('base64');
      return Object.assign(content, { headers: { ...content.headers, 'content-md5': contentMd5 } });
    };
    const good = Buffer.alloc(SMALL_OBJECT_BYTES * 2, 'part');
    // An upload as s3rver's CreateMultipartUpload leaves it: its directory and its key.
    const upload = path.join(dir, 'archive', 'undefined._S3rver_uploads', 'a1');
    await mkdir(upload, { recursive: true });
    await writeFile(path.join(upload, 'key'), 'video.mov');
    expect(await store.putPart('archive', 'a1', '1', withMd5(good, good))).toEqual({
      size: good.length,
      md5: md5(good),
    });
    // The part, then its MD5 beside it (what CompleteMultipartUpload compares), once the part is in place.
    expect(events.map(named)).toEqual([
      'fsync stream',
      'rename 1~ -> 1',
      'fsync 1.md5~',
      'rename 1.md5~ -> 1.md5',
    ]);

    for (const size of [100, SMALL_OBJECT_BYTES * 2]) {
      const corrupted = Buffer.alloc(size, 'torn');
      await expect(store.putPart('archive', 'a1', '1', withMd5(corrupted, good))).rejects.toMatchObject({
        code: 'BadDigest',
        status: 400,
      });
    }
    expect((await readdir(upload)).sort()).toEqual(['1', '1.md5', 'key']);
    expect(await readFile(path.join(upload, '1'))).toEqual(good);
  });

  it('writes the rest when the file system takes fewer bytes than asked (a short write)', async () => {
    const store = s3rverLikeStore();
    makeWritesAtomic(store);
    const writeSync = fs.writeSync as (fd: number, buffer: Buffer, offset: number, length: number) => number;
    // At most 7 bytes a call, as POSIX allows a write to return.
    const shortWrite = (fd: number, buffer: Buffer, offset?: number | null, length?: number | null) => {
      const from = offset ?? 0;
      return writeSync(fd, buffer, from, Math.min(7, length ?? buffer.length - from));
    };
    vi.spyOn(fs, 'writeSync').mockImplementation(shortWrite as typeof fs.writeSync);
    const body = Buffer.from('{"id":"B"}\n'.repeat(40));
    const result = await store.putObject({
      bucket: 'archive',
      key: 'catalog/assets/0c3.jsonl',
      content: requestBody(body),
      metadata: { 'content-type': 'application/x-ndjson' },
    });

    expect(result).toEqual({ size: body.length, md5: md5(body) });
    const files = path.join(dir, 'archive', 'catalog', 'assets');
    expect(await readFile(path.join(files, '0c3.jsonl._S3rver_object'))).toEqual(body);
    expect(JSON.parse(await readFile(path.join(files, '0c3.jsonl._S3rver_metadata.json'), 'utf8'))).toEqual({
      'content-type': 'application/x-ndjson',
    });
  });
});
