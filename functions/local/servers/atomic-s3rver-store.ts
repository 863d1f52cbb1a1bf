/**
 * Makes s3rver's filesystem store crash-safe. s3rver writes an object as three files in place
 * (`<key>._S3rver_object`, `…object.md5`, `…metadata.json`), each opened with truncation: a
 * process killed mid-write leaves a truncated object or a 0-byte metadata file, and s3rver then
 * answers every list or read of that key with a 500 (the SDK's "UnknownError").
 *
 * Here every file is written under a temporary name next to its target and renamed into place
 * (a rename within one directory is atomic), in an order that keeps a new key invisible until it
 * is whole: metadata first, then the object (s3rver shows a key only once its object file
 * exists), then the `.md5` (s3rver recomputes it when it is missing; a stale one is removed
 * before anything else changes). A kill at any point leaves either the old object or the new
 * one, plus at most a temporary file that `repairLocalS3Store` removes on the next start.
 *
 * `inFlight()` lets the process wait for writes under way before it exits.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Marks a temporary file: no s3rver file name contains it (theirs end in `._S3rver_<resource>`). */
export const TEMP_MARK = '.icloud-s3-partial-';

/** Headers s3rver keeps besides `x-amz-meta-*` (s3rver/lib/models/object.js ALLOWED_METADATA). */
const ALLOWED_METADATA = new Set([
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-type',
  'expires',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
]);

/** The parts of s3rver's FilesystemStore this module replaces or calls. */
export interface S3rverFilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: Record<string, string> | null,
  ): Promise<Record<string, unknown>>;
  deleteObject(bucket: string, key: string): Promise<void>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: unknown[],
  ): Promise<{ size: number; md5: string }>;
}

interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly content: Buffer | Readable;
  readonly metadata: Record<string, string>;
}

export interface AtomicStore {
  /** Resolves when no write that has started is still under way. */
  inFlight(): Promise<void>;
}

function tempPathFor(target: string): string {
  return `${target}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
}

async function removeQuietly(file: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** Writes `data` to `target` atomically: a reader sees the old file or the whole new one. */
export async function writeFileAtomic(target: string, data: string | Buffer): Promise<void> {
  const temp = tempPathFor(target);
  try {
    await writeFile(temp, data, { flush: true });
    await rename(temp, target);
  } catch (error) {
    await removeQuietly(temp).catch(() => undefined);
    throw error;
  }
}

function storedMetadata(metadata: Record<string, string>): string {
  const kept = Object.fromEntries(
    Object.entries(metadata).filter(([name]) => ALLOWED_METADATA.has(name) || name.startsWith('x-amz-meta-')),
  );
  return JSON.stringify(kept, null, 2);
}

/** Replaces `store`'s write methods with atomic ones (see the module comment). */
export function makeWritesAtomic(store: S3rverFilesystemStore): AtomicStore {
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    const forget = () => running.delete(work);
    work.then(forget, forget);
    return work;
  };
  const paths = (bucket: string, key: string) => ({
    object: store.getResourcePath(bucket, key, 'object'),
    md5: store.getResourcePath(bucket, key, 'object.md5'),
    metadata: store.getResourcePath(bucket, key, 'metadata.json'),
  });

  /** Moves a fully written object file into place with its metadata, in the crash-safe order. */
  async function commit(
    target: ReturnType<typeof paths>,
    objectTemp: string,
    metadataJson: string,
    md5: string | undefined,
  ): Promise<void> {
    await removeQuietly(target.md5);
    await writeFileAtomic(target.metadata, metadataJson);
    await rename(objectTemp, target.object);
    if (md5 !== undefined) await writeFileAtomic(target.md5, md5);
  }

  async function putObject(object: StoredObject): Promise<{ size: number; md5: string }> {
    const target = paths(object.bucket, object.key);
    await mkdir(path.dirname(target.object), { recursive: true });
    const temp = tempPathFor(target.object);
    const hash = createHash('md5');
    let size = 0;
    try {
      const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
      await pipeline(
        source,
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            size += chunk.length;
            callback(null, chunk);
          },
        }),
        createWriteStream(temp, { flush: true }),
      );
      const md5 = hash.digest('hex');
      await commit(target, temp, storedMetadata(object.metadata), md5);
      return { size, md5 };
    } catch (error) {
      await removeQuietly(temp).catch(() => undefined);
      throw error;
    }
  }

  async function putMetadata(
    bucket: string,
    key: string,
    metadata: Record<string, string>,
    md5?: string,
  ): Promise<void> {
    const target = paths(bucket, key);
    if (md5 !== undefined) await writeFileAtomic(target.md5, md5);
    await writeFileAtomic(target.metadata, storedMetadata(metadata));
  }

  const copyInPlace = store.copyObject.bind(store);
  async function copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: Record<string, string> | null,
  ): Promise<Record<string, unknown>> {
    const source = paths(srcBucket, srcKey);
    const target = paths(destBucket, destKey);
    // A copy onto itself only rewrites the metadata, which putMetadata (above) already does atomically.
    if (source.object === target.object)
      return copyInPlace(srcBucket, srcKey, destBucket, destKey, replacementMetadata);
    await mkdir(path.dirname(target.object), { recursive: true });
    const temp = tempPathFor(target.object);
    try {
      await copyFile(source.object, temp);
      const metadataJson =
        // s3rver passes null (not undefined) when the copy keeps the source's metadata.
        replacementMetadata == null
          ? JSON.stringify(await readStored(source.metadata), null, 2)
          : storedMetadata(replacementMetadata);
      await commit(target, temp, metadataJson, undefined);
    } catch (error) {
      await removeQuietly(temp).catch(() => undefined);
      throw error;
    }
    return store.getMetadata(destBucket, destKey);
  }

  const deleteInPlace = store.deleteObject.bind(store);
  const completeMultipart = store.putObjectMultipart.bind(store);

  store.putObject = (object) => track(putObject(object));
  store.putMetadata = (bucket, key, metadata, md5) => track(putMetadata(bucket, key, metadata, md5));
  store.copyObject = (...args) => track(copyObject(...args));
  store.deleteObject = (bucket, key) => track(deleteInPlace(bucket, key));
  // Calls store.putObject (atomic above), then removes the upload's parts.
  store.putObjectMultipart = (bucket, uploadId, parts) => track(completeMultipart(bucket, uploadId, parts));

  return {
    async inFlight() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

/** A stored metadata file's content; `{}` when there is none (s3rver allows that). */
async function readStored(file: string): Promise<unknown> {
  return readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as unknown,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return {};
      throw error;
    },
  );
}
