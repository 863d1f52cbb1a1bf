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
 * Each file is fsynced before its rename: a rename never puts in place a file whose bytes are
 * not on disk yet.
 *
 * The quick file operations (open, a small write, close, rename, unlink, mkdir) are made
 * synchronously; only the fsyncs (and big bodies' writes) go to libuv's thread pool. Each round
 * trip through the pool cost the child's one JavaScript thread more than the system call itself
 * (a pool thread's wake-up competes for the same two cores), and a catalog fold writes hundreds
 * of small objects at once: 264 shard-sized PUTs, 16 at once, took 1.2-1.8 ms of the child's CPU
 * each against 1.9-2.8 ms (load 7-8); with `s3rver-request-work.ts`, a first sync's 264 shard
 * writes took 0.64-1.13 s (median 0.81) against 0.79-1.13 s (median 0.91), docs/benchmarks.md
 * §0. The price: a rename or unlink
 * that waits on the file system's journal holds the thread (under strace, 99 % of them took under
 * 2 ms and 7 ms; an fsync is never made there).
 *
 * A multipart upload's parts are written the same way (temporary name, fsync, rename; s3rver's
 * own putPart writes over the part in place), and a PutObject's or UploadPart's body is checked
 * against the `Content-MD5` and the `x-amz-checksum-*` its request declares with the digests
 * computed while writing it (`s3-content-md5.ts`, `s3-checksum-headers.ts`): a mismatch is
 * refused before the rename, leaving nothing of the body.
 *
 * The `.md5` holds the object's ETag, S3's (s3-etags.ts): a PutObject's MD5, a completed upload's
 * `<MD5 of its parts' MD5s>-<parts>`, a copy's MD5 of its bytes (taken from a source whose ETag is
 * one, else hashed). Without one s3rver recomputes the MD5 of the bytes.
 *
 * An object's tag set (`…tagging.xml`, s3rver's tagging subresource) is written with it, after
 * its metadata and before its object file, from the request's `x-amz-tagging` (a completed
 * upload's from its CreateMultipartUpload's, a copy's from its source or its request); a version
 * without tags removes the file, as does a delete (s3-object-tagging.ts).
 *
 * `inFlight()` lets the process wait for writes under way before it exits.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { copyFile, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import S3Object from 's3rver/lib/models/object.js';
import {
  checksumOf,
  type DeclaredChecksum,
  declaredChecksum,
  refuseMismatchedChecksum,
} from './s3-checksum-headers.ts';
import {
  type ListedPart,
  refuseInvalidPartNumber,
  refuseListedPart,
  type StoredPart,
} from './s3-complete-multipart.ts';
import { declaredMd5, refuseMismatchedBody } from './s3-content-md5.ts';
import { isMd5Etag, md5OfFile, multipartEtag } from './s3-etags.ts';
import { noSuchUpload } from './s3-no-such-upload.ts';
import { type TagSet, taggingXml, tagsFromHeader } from './s3-object-tagging.ts';
import type { CopyPart } from './s3-upload-part-copy.ts';

/** An upload id as s3rver issues them (16 random bytes in hex). */
const UPLOAD_ID = /^[0-9a-f]+$/;

/** Marks a temporary file: no s3rver file name contains it (theirs end in `._S3rver_<resource>`). */
export const TEMP_MARK = '.icloud-s3-partial-';

/**
 * Bodies up to this size (their length known from the request) are read into memory and written
 * with one write; larger ones stream to disk as they arrive (memory stays flat in object size).
 */
export const SMALL_OBJECT_BYTES = 64 * 1024;

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
  getBucketPath(bucket: string): string;
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
    /** The copy's tags (`TaggingDirective: REPLACE`); the source's when undefined (COPY). */
    tags?: TagSet,
  ): Promise<Record<string, unknown>>;
  deleteObject(bucket: string, key: string): Promise<void>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: ListedPart[],
  ): Promise<{ size: number; etag: string }>;
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: number | string,
    content: StoredObject['content'],
  ): Promise<{ size: number; md5: string }>;
}

interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  /** s3rver passes the request itself, whose headers give the body's length. */
  readonly content: Buffer | (Readable & { readonly headers?: Record<string, unknown> });
  readonly metadata: Record<string, string>;
}

export interface AtomicStore {
  /** Resolves when no write that has started is still under way. */
  inFlight(): Promise<void>;
  /** True when this process completed `uploadId` (which S3 still answers an abort of with 204). */
  completedRecently(bucket: string, uploadId: string): boolean;
  /** UploadPartCopy's write (s3-upload-part-copy.ts). */
  copyPart: CopyPart;
}

/**
 * How many completions are remembered, for a repeat of one to get its first answer again: S3
 * answers a repeated CompleteMultipartUpload (an SDK retry after a lost answer) with the same 200
 * for hours; here, for the child's lifetime and the last this many uploads.
 */
const REMEMBERED_COMPLETIONS = 10_000;

function tempPathFor(target: string): string {
  return `${target}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Removes `folder` if it is empty; false when it is not (or is gone already). */
function removeIfEmpty(folder: string): boolean {
  try {
    fs.rmdirSync(folder);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return false;
    throw error;
  }
}

/** Removes a failed write's temporary file, if it can: the write's own error is what is reported. */
function discardTemp(temp: string): void {
  try {
    removeQuietly(temp);
  } catch {}
}

/**
 * Runs `write` on a fresh temporary path beside `target` (which `write` renames into place); if
 * it fails, the temporary file is removed and the failure passed on.
 */
async function throughTemp<T>(target: string, write: (temp: string) => Promise<T>): Promise<T> {
  const temp = tempPathFor(target);
  try {
    return await write(temp);
  } catch (error) {
    discardTemp(temp);
    throw error;
  }
}

const fsync = (fd: number) =>
  new Promise<void>((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));

/** Puts a file already written on disk (fsync). */
async function fsyncFile(file: string): Promise<void> {
  const fd = fs.openSync(file, 'r+');
  try {
    await fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Creates `file` holding `data`, on disk (fsynced) when this resolves. */
async function writeDurably(file: string, data: string | Buffer): Promise<void> {
  const fd = fs.openSync(file, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // A write may take fewer bytes than asked (POSIX allows it): write the rest.
    for (let written = 0; written < bytes.length; )
      written += fs.writeSync(fd, bytes, written, bytes.length - written);
    await fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to `target` atomically: a reader sees the old file or the whole new one. */
export async function writeFileAtomic(target: string, data: string | Buffer): Promise<void> {
  await throughTemp(target, async (temp) => {
    await writeDurably(temp, data);
    fs.renameSync(temp, target);
  });
}

/** The body's length when the request says it and it is small enough to hold; else undefined. */
function smallBodyLength(content: StoredObject['content']): number | undefined {
  if (Buffer.isBuffer(content)) return content.length <= SMALL_OBJECT_BYTES ? content.length : undefined;
  const length = Number(content.headers?.['content-length']);
  return Number.isSafeInteger(length) && length >= 0 && length <= SMALL_OBJECT_BYTES ? length : undefined;
}

/** Reads a small body whole (never more than `SMALL_OBJECT_BYTES`, whatever its header said). */
async function readSmallBody(content: StoredObject['content']): Promise<Buffer> {
  if (Buffer.isBuffer(content)) return content;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of content) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += bytes.length;
    if (size > SMALL_OBJECT_BYTES) throw new Error('the body is longer than its content-length');
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** The request's headers when s3rver passed the request as the body (not a multipart's parts). */
/**
 * Runs a check of a request made before its body is read; if it refuses, the body is read and
 * dropped first, so the client, still sending, reads the answer instead of a broken pipe (EPIPE).
 */
async function checkedBeforeBody<T>(content: StoredObject['content'], check: () => T): Promise<T> {
  try {
    return check();
  } catch (error) {
    if (!Buffer.isBuffer(content)) {
      content.resume();
      await finished(content).catch(() => undefined);
    }
    throw error;
  }
}

function requestHeaders(content: StoredObject['content']): Record<string, unknown> | undefined {
  return Buffer.isBuffer(content) ? undefined : content.headers;
}

/** What a request declares of its body: its `Content-MD5` and its `x-amz-checksum-*`. */
interface DeclaredDigests {
  readonly md5: Buffer | undefined;
  readonly checksum: DeclaredChecksum | undefined;
}

/** The digests `content`'s request declares; throws S3's refusal of a malformed one. */
function declaredDigests(content: StoredObject['content']): DeclaredDigests {
  const headers = requestHeaders(content);
  return { md5: declaredMd5(headers), checksum: declaredChecksum(headers) };
}

/** Refuses a body whose MD5 or checksum is not the one declared (s3-content-md5.ts, s3-checksum-headers.ts). */
function refuseMismatched(declared: DeclaredDigests, md5: Buffer, checksum: Buffer | undefined): void {
  refuseMismatchedBody(declared.md5, md5);
  refuseMismatchedChecksum(declared.checksum, checksum);
}

/**
 * Writes `content` to `temp`, fsynced, hashing it on the way; refuses it when its MD5 or its
 * checksum is not the one `declared`, before a small body is written at all and before a
 * streamed one is renamed into place (the caller removes `temp`). Returns its size and hex MD5.
 */
async function writeCheckedBody(
  temp: string,
  content: StoredObject['content'],
  declared: DeclaredDigests,
): Promise<{ size: number; md5: string }> {
  const checksum = declared.checksum && checksumOf(declared.checksum.algorithm);
  if (smallBodyLength(content) !== undefined) {
    const body = await readSmallBody(content);
    const digest = createHash('md5').update(body).digest();
    checksum?.update(body);
    refuseMismatched(declared, digest, checksum?.digest());
    await writeDurably(temp, body);
    return { size: body.length, md5: digest.toString('hex') };
  }
  const hash = createHash('md5');
  let size = 0;
  const source = Buffer.isBuffer(content) ? Readable.from([content]) : content;
  await pipeline(
    source,
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        checksum?.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    }),
    fs.createWriteStream(temp, { flush: true }),
  );
  const digest = hash.digest();
  refuseMismatched(declared, digest, checksum?.digest());
  return { size, md5: digest.toString('hex') };
}

function storedMetadata(metadata: Record<string, string>): string {
  const kept = Object.fromEntries(
    Object.entries(metadata).filter(
      ([name, value]) =>
        (ALLOWED_METADATA.has(name) || name.startsWith('x-amz-meta-')) &&
        // S3's default class: its HEAD and GET name no class for it (only the others).
        !(name === 'x-amz-storage-class' && value === 'STANDARD'),
    ),
  );
  return JSON.stringify(kept, null, 2);
}

/** Replaces `store`'s write methods with atomic ones (see the module comment). */
export function makeWritesAtomic(store: S3rverFilesystemStore): AtomicStore {
  const running = new Set<Promise<unknown>>();
  /** Completed uploads by `<bucket>/<upload id>`: the parts listed (JSON) and the answer. */
  const completed = new Map<string, { listing: string; written: { size: number; etag: string } }>();
  /**
   * The MD5 of the bytes of objects completed from multipart uploads, by object file, hashed while
   * they were assembled: the ETag of their copy (a video's metadata copy follows its completion),
   * which then needs no read of its own. Forgotten when the object is replaced, deleted or copied
   * onto itself, past REMEMBERED_COMPLETIONS, and at a restart (the copy then reads the bytes).
   */
  const assembledMd5 = new Map<string, string>();
  const rememberAssembled = (object: string, md5: string | undefined) => {
    assembledMd5.delete(object);
    if (md5 === undefined) return;
    assembledMd5.set(object, md5);
    if (assembledMd5.size > REMEMBERED_COMPLETIONS) assembledMd5.delete(assembledMd5.keys().next().value!);
  };
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    const forget = () => running.delete(work);
    work.then(forget, forget);
    return work;
  };
  /** Folders a put or copy has made (or found) and not yet filled: a delete leaves them and those above. */
  const writing = new Map<string, number>();
  const writingIn = (folder: string) => {
    for (const busy of writing.keys())
      if (busy === folder || busy.startsWith(`${folder}${path.sep}`)) return true;
    return false;
  };
  /** Makes `folder` (and those above) and keeps it from deletes until `write` has settled. */
  async function writeInFolder<T>(folder: string, write: () => Promise<T>): Promise<T> {
    writing.set(folder, (writing.get(folder) ?? 0) + 1);
    try {
      fs.mkdirSync(folder, { recursive: true });
      return await write();
    } finally {
      const left = (writing.get(folder) ?? 1) - 1;
      if (left === 0) writing.delete(folder);
      else writing.set(folder, left);
    }
  }
  const paths = (bucket: string, key: string) => ({
    object: store.getResourcePath(bucket, key, 'object'),
    md5: store.getResourcePath(bucket, key, 'object.md5'),
    metadata: store.getResourcePath(bucket, key, 'metadata.json'),
    /** s3rver's tagging subresource, the object's tag set (s3-object-tagging.ts). */
    tagging: store.getResourcePath(bucket, key, 'tagging.xml'),
  });

  /** Makes `tags` the tag set in `file`: none (no file) when empty. */
  async function writeTags(file: string, tags: TagSet): Promise<void> {
    if (tags.length === 0) removeQuietly(file);
    else await writeFileAtomic(file, taggingXml(tags));
  }

  /**
   * Moves a fully written object file into place with its metadata and tags (the new version's,
   * none when `tags` is empty; the file is copied as it is when `tags` is a path), in the
   * crash-safe order.
   */
  async function commit(
    target: ReturnType<typeof paths>,
    objectTemp: string,
    metadataJson: string,
    md5: string | undefined,
    tags: TagSet | { readonly from: string },
  ): Promise<void> {
    removeQuietly(target.md5);
    await writeFileAtomic(target.metadata, metadataJson);
    const tagging = 'from' in tags ? await readOptional(tags.from) : tags.length > 0 ? taggingXml(tags) : '';
    if (tagging === '') removeQuietly(target.tagging);
    else await writeFileAtomic(target.tagging, tagging);
    fs.renameSync(objectTemp, target.object);
    if (md5 !== undefined) await writeFileAtomic(target.md5, md5);
  }

  /**
   * `completed`: the tags and ETag of a completed upload (s3-etags.ts); else the request's
   * `x-amz-tagging` (none without it) and the body's MD5.
   */
  async function putObject(
    object: StoredObject,
    completed?: { readonly tags: TagSet; readonly etag: string },
  ): Promise<{ size: number; md5: string }> {
    const declared = await checkedBeforeBody(object.content, () => ({
      ...declaredDigests(object.content),
      tags: completed?.tags ?? tagsFromHeader(requestHeaders(object.content)) ?? [],
    }));
    const target = paths(object.bucket, object.key);
    return writeInFolder(path.dirname(target.object), () =>
      throughTemp(target.object, async (temp) => {
        const written = await writeCheckedBody(temp, object.content, declared);
        const etag = completed?.etag ?? written.md5;
        await commit(target, temp, storedMetadata(object.metadata), etag, declared.tags);
        rememberAssembled(target.object, completed && written.md5);
        return written;
      }),
    );
  }

  /**
   * Replaces s3rver's putPart, which writes the part in place (a refused or interrupted part
   * would overwrite the one already uploaded under its number) and answers before the file is
   * written. The part's MD5 (its ETag, which CompleteMultipartUpload checks) is kept beside it
   * in `<part>.md5`, removed before the part is replaced and written once it is in place: a
   * `.md5` is never that of other bytes (without one, completion hashes the part).
   */
  async function putPart(
    bucket: string,
    uploadId: string,
    partNumber: number | string,
    content: StoredObject['content'],
  ): Promise<{ size: number; md5: string }> {
    const upload = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const declared = await checkedBeforeBody(content, () => {
      const digests = declaredDigests(content);
      refuseInvalidPartNumber(partNumber);
      // As S3: a part for an upload never created, aborted or completed is refused. s3rver made the
      // directory for any id, bringing an aborted upload back (and an id with `..` wrote elsewhere).
      if (!UPLOAD_ID.test(uploadId) || !fs.existsSync(path.join(upload, 'key'))) throw noSuchUpload(uploadId);
      return digests;
    });
    const part = path.join(upload, String(partNumber));
    return throughTemp(part, async (temp) => {
      const written = await writeCheckedBody(temp, content, declared);
      removeQuietly(`${part}.md5`);
      fs.renameSync(temp, part);
      await writeFileAtomic(`${part}.md5`, written.md5);
      return written;
    });
  }

  /**
   * Writes bytes `first` to `last` of an object as part `partNumber` of `uploadId`, as `putPart`
   * writes an uploaded one (temporary name, fsync, rename, then its MD5 beside it). `checked`
   * reads the source's metadata, checks the request's conditions on it and names the range; it
   * runs after the object file is open, so the bytes copied are never a newer version than the
   * one checked: a put writes its metadata before it renames its object into place, so a version
   * renamed in after the open had its metadata read by `checked` (and fails its condition).
   */
  async function copyPart(
    bucket: string,
    uploadId: string,
    partNumber: number,
    source: { readonly bucket: string; readonly key: string },
    checked: () => Promise<{ readonly first: number; readonly last: number }>,
  ): Promise<{ md5: string; lastModified: Date }> {
    const upload = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    if (!UPLOAD_ID.test(uploadId) || !fs.existsSync(path.join(upload, 'key'))) throw noSuchUpload(uploadId);
    const part = path.join(upload, String(partNumber));
    const file = await fs.promises.open(paths(source.bucket, source.key).object, 'r');
    try {
      const range = await checked();
      const bytes = file.createReadStream({ start: range.first, end: range.last, autoClose: false });
      return await throughTemp(part, async (temp) => {
        const written = await writeCheckedBody(temp, bytes, { md5: undefined, checksum: undefined });
        removeQuietly(`${part}.md5`);
        fs.renameSync(temp, part);
        await writeFileAtomic(`${part}.md5`, written.md5);
        return { md5: written.md5, lastModified: new Date() };
      });
    } finally {
      await file.close();
    }
  }

  /**
   * Replaces s3rver's putObjectMultipart, which assembled the parts it found whatever the request
   * listed (s3-complete-multipart.ts): refuses an upload that does not exist, then each listed
   * part S3 would refuse, before anything is written; then stores the listed parts, in the
   * listed order, as one object (putObject, atomic) with S3's multipart ETag (s3-etags.ts) and
   * removes the upload. A repeat of a completion with the same parts gets the same answer
   * (REMEMBERED_COMPLETIONS).
   */
  async function completeUpload(
    bucket: string,
    uploadId: string,
    parts: ListedPart[],
  ): Promise<{ size: number; etag: string }> {
    const upload = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const id = `${bucket}/${uploadId}`;
    const listing = JSON.stringify(parts);
    if (!UPLOAD_ID.test(uploadId) || !fs.existsSync(path.join(upload, 'key'))) {
      const done = completed.get(id);
      if (done?.listing === listing) return done.written;
      throw noSuchUpload(uploadId);
    }
    const files: string[] = [];
    const partMd5s: string[] = [];
    for (const [at, listed] of parts.entries()) {
      const file = path.join(upload, String(listed.number));
      const stored = await storedPart(file);
      refuseListedPart(listed, stored, at === parts.length - 1, uploadId);
      files.push(file);
      // refuseListedPart refused a part that is not stored.
      partMd5s.push(stored!.md5);
    }
    const [key, metadata] = await Promise.all([
      readFile(path.join(upload, 'key'), 'utf8'),
      readFile(path.join(upload, 'metadata'), 'utf8').then(
        (text) => JSON.parse(text) as Record<string, string>,
      ),
    ]);
    const object = new S3Object(bucket, key, Readable.from(concatenated(files)), metadata);
    // The tags CreateMultipartUpload declared (s3rver keeps its request's headers with the upload).
    const tags = tagsFromHeader(metadata) ?? [];
    const etag = multipartEtag(partMd5s);
    const written = { size: (await putObject(object, { tags, etag })).size, etag };
    await rm(upload, { recursive: true, force: true });
    completed.set(id, { listing, written });
    if (completed.size > REMEMBERED_COMPLETIONS) completed.delete(completed.keys().next().value!);
    return written;
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
  /**
   * A copy is a new object with S3's ETag for it, the MD5 of its bytes (s3-etags.ts): the
   * source's when that is one already (a PutObject's or a copy's); else (a multipart upload's)
   * the one hashed while it was assembled (`assembledMd5`), or, after a restart, hashed in one
   * read of the bytes copied (of the object itself, for a copy onto itself).
   */
  async function copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: Record<string, string> | null,
    tags?: TagSet,
  ): Promise<Record<string, unknown>> {
    const source = paths(srcBucket, srcKey);
    const target = paths(destBucket, destKey);
    const sourceEtag = (await readOptional(source.md5)).trim();
    const md5 = isMd5Etag(sourceEtag) ? sourceEtag : undefined;
    // A copy onto itself rewrites the metadata, which putMetadata (above) already does
    // atomically, the tags when it replaces them (a copy of its own keeps them), and the ETag
    // when it was not the MD5 (written before the metadata: the copy's bytes are the same).
    if (source.object === target.object) {
      if (md5 === undefined)
        await writeFileAtomic(
          target.md5,
          assembledMd5.get(source.object) ?? (await md5OfFile(source.object)),
        );
      rememberAssembled(target.object, undefined);
      const copied = await copyInPlace(srcBucket, srcKey, destBucket, destKey, replacementMetadata);
      if (tags !== undefined) await writeTags(target.tagging, tags);
      return copied;
    }
    await writeInFolder(path.dirname(target.object), () =>
      throughTemp(target.object, async (temp) => {
        await copyFile(source.object, temp);
        await fsyncFile(temp);
        // The copy is hashed after a copy in the kernel rather than while copying through this
        // thread: 2.7 s of CPU per GiB against 4.3 s (s3-etags.ts).
        const copiedMd5 = md5 ?? assembledMd5.get(source.object) ?? (await md5OfFile(temp));
        const metadataJson =
          // s3rver passes null (not undefined) when the copy keeps the source's metadata.
          replacementMetadata == null
            ? JSON.stringify(await readStored(source.metadata), null, 2)
            : storedMetadata(replacementMetadata);
        await commit(target, temp, metadataJson, copiedMd5, tags ?? { from: source.tagging });
        rememberAssembled(target.object, undefined);
      }),
    );
    return store.getMetadata(destBucket, destKey);
  }

  /**
   * Replaces s3rver's deleteObject, which removed a key's empty folders with `rmdir` after an
   * `await`: two deletes emptying the same folder side by side both tried, and the loser answered
   * 500 (a catalog fold deletes its journal objects 16 at once; DeleteObjects deletes its keys side
   * by side), and a put that had made its folder could lose it before creating its file. Here the
   * object file goes first (the key is gone from lists and reads), then its md5 and metadata, then
   * each folder left empty, synchronously (no other request runs in between), stopping at a folder
   * another request has a write under way in, or one that is not empty.
   */
  function deleteObject(bucket: string, key: string): Promise<void> {
    const target = paths(bucket, key);
    removeQuietly(target.object);
    rememberAssembled(target.object, undefined);
    removeQuietly(target.md5);
    removeQuietly(target.metadata);
    removeQuietly(target.tagging);
    const bucketPath = store.getBucketPath(bucket);
    for (let folder = path.dirname(target.object); folder.startsWith(`${bucketPath}${path.sep}`); ) {
      if (writingIn(folder) || !removeIfEmpty(folder)) break;
      folder = path.dirname(folder);
    }
    return Promise.resolve();
  }

  store.putObject = (object) => track(putObject(object));
  store.putPart = (bucket, uploadId, partNumber, content) =>
    track(putPart(bucket, uploadId, partNumber, content));
  store.putMetadata = (bucket, key, metadata, md5) => track(putMetadata(bucket, key, metadata, md5));
  store.copyObject = (...args) => track(copyObject(...args));
  store.deleteObject = (bucket, key) => track(deleteObject(bucket, key));
  store.putObjectMultipart = (bucket, uploadId, parts) => track(completeUpload(bucket, uploadId, parts));

  return {
    async inFlight() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    completedRecently: (bucket, uploadId) => completed.has(`${bucket}/${uploadId}`),
    copyPart: (...args) => track(copyPart(...args)),
  };
}

/** A file's text, '' when there is none. */
async function readOptional(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
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

/** The size and MD5 of an upload's part file, undefined when there is none. */
export async function storedPart(file: string): Promise<StoredPart | undefined> {
  const size = await stat(file).then(
    (found) => found.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    },
  );
  if (size === undefined) return undefined;
  const kept = await readFile(`${file}.md5`, 'utf8').catch(() => '');
  return { size, md5: isMd5Etag(kept) ? kept : await md5OfFile(file) };
}

/** The bytes of `files`, one after the other. */
async function* concatenated(files: readonly string[]): AsyncGenerator<Buffer> {
  for (const file of files) yield* fs.createReadStream(file) as AsyncIterable<Buffer>;
}
