/**
 * `ObjectStore` in memory that behaves like the S3 adapter on S3: it really consumes the body
 * stream, counts it against `contentLength`, writes `mtime`/`md5chksum` metadata the same way,
 * and computes ETags as S3 does: MD5 for a single PUT, which a put of bytes always is, and for
 * a multipart put too, whose object the adapter's metadata copy replaces with a copy (S3 gives a
 * CopyObject's object the MD5 of its bytes; over 5 GiB the copy is a multipart one, whose ETag
 * is `<hex>-<parts>`, as here over `maxCopyBytes`). A failed or aborted put stores nothing. Keys
 * list in UTF-8 byte order. Tags are kept as S3 keeps them beside the object: a put here leaves
 * none (its metadata copy dropped the staging tag), an object as earlier workers left it
 * (`putAsEarlierWorkers`) has the staging tag, and `addMetadata`'s rewrite drops them.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  assertValidMetadata,
  MD5_KEY,
  MTIME_KEY,
  md5HexToBase64,
  parseRcloneMtime,
} from '#adapters/aws/rclone-metadata.ts';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { ContentLengthMismatchError, ObjectTooLargeError } from '#domain/errors.ts';
import type {
  ListedObject,
  MetadataAdded,
  MetadataAddition,
  ObjectHead,
  ObjectMetadata,
  ObjectStore,
  PutBytesOptions,
  PutResult,
  PutStreamOptions,
} from '#ports/object-store.ts';
import { MAX_OBJECT_BYTES } from '#ports/object-store.ts';
import { COPY_OBJECT_MAX_BYTES, STAGING_TAG } from '#shared/env-names.ts';

interface StoredObject {
  readonly data: Buffer;
  readonly etag: string;
  readonly contentType: string;
  readonly metadata: Record<string, string>;
  readonly lastModified: number;
  /** The object's tag set (S3 keeps it beside the object; a copy replaces it). */
  readonly tags: Readonly<Record<string, string>>;
}

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('upload aborted', { cause: signal.reason }), { name: 'AbortError' });
}

export class InMemoryObjectStore implements ObjectStore {
  protected readonly objects = new Map<string, StoredObject>();
  protected readonly partSize: number;
  protected readonly now: () => number;
  /** The largest object one CopyObject rewrites; a larger one's rewrite is a multipart copy. */
  protected readonly maxCopyBytes: number;

  constructor(options: { partSize?: number; now?: () => number; maxCopyBytes?: number } = {}) {
    this.partSize = options.partSize ?? 8 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.maxCopyBytes = options.maxCopyBytes ?? COPY_OBJECT_MAX_BYTES;
  }

  /** The object's tags (for assertions); an empty set when it has none or is missing. */
  tagsOf(key: string): Readonly<Record<string, string>> {
    return { ...this.objects.get(key)?.tags };
  }

  /**
   * Stores `data` as the workers before the multipart copy left a video over 5 GiB: the multipart
   * upload itself, current, with the up-front metadata only (no `md5chksum`, no late hashes), a
   * `<md5>-<parts>` ETag and the staging tag. Returns its ETag.
   */
  putAsEarlierWorkers(
    key: string,
    data: Buffer,
    options: { contentType: string; metadata: ObjectMetadata; parts: number },
  ): { etag: string } {
    const etag = `${md5(Buffer.from(`${md5(data)}|${this.now()}|${options.parts}`))}-${options.parts}`;
    this.objects.set(key, {
      data,
      etag,
      contentType: options.contentType,
      metadata: { ...options.metadata },
      lastModified: this.now(),
      tags: { [STAGING_TAG.key]: STAGING_TAG.value },
    });
    return { etag };
  }

  /** Every key held, in list order (for assertions). */
  keys(): string[] {
    return [...this.objects.keys()].sort(compareUtf8);
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    const object = this.objects.get(key);
    return object === undefined ? undefined : toHead(key, object);
  }

  async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult> {
    const { partSize } = this;
    if (partSize < MIN_PART_SIZE) throw new RangeError(`partSize must be at least ${MIN_PART_SIZE} bytes`);
    // As S3ArchivingObjectStore: refused before a byte of the body is read.
    if (options.contentLength > MAX_OBJECT_BYTES)
      throw new ObjectTooLargeError(options.contentLength, MAX_OBJECT_BYTES);
    const upfront = { ...options.metadata };
    assertValidMetadata(upfront);
    const { signal } = options;
    signal?.throwIfAborted();

    const chunks: Buffer[] = [];
    let received = 0;
    const aborted = new Promise<never>((_, reject) => {
      signal?.addEventListener('abort', () => reject(abortError(signal)), { once: true });
    });
    aborted.catch(() => undefined);
    const consume = (async () => {
      for await (const chunk of body) {
        received += (chunk as Buffer).length;
        if (received > options.contentLength)
          throw new ContentLengthMismatchError(options.contentLength, received);
        chunks.push(chunk as Buffer);
      }
    })();
    try {
      await Promise.race([consume, aborted]);
    } catch (error) {
      body.destroy();
      throw error;
    }
    if (received !== options.contentLength)
      throw new ContentLengthMismatchError(options.contentLength, received);
    const data = Buffer.concat(chunks);
    return this.store(key, data, upfront, options, data.length > partSize);
  }

  async putBytes(key: string, body: Uint8Array, options: PutBytesOptions): Promise<PutResult> {
    const upfront = { ...options.metadata };
    assertValidMetadata(upfront);
    options.signal?.throwIfAborted();
    return this.store(key, Buffer.from(body), upfront, options, false);
  }

  private store(
    key: string,
    data: Buffer,
    upfront: ObjectMetadata,
    options: PutBytesOptions & Pick<PutStreamOptions, 'lateMetadata'>,
    multipart: boolean,
  ): PutResult {
    // As S3 (KeyTooLongError, 400): a key is at most 1,024 bytes of UTF-8.
    if (Buffer.byteLength(key) > 1024)
      throw Object.assign(new Error('Your key is too long'), {
        name: 'KeyTooLongError',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    const digest = md5(data);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const metadata = {
      ...upfront,
      ...options.lateMetadata?.({ bytes: data.length, md5: digest, sha256 }),
      [MD5_KEY]: md5HexToBase64(digest),
    };
    assertValidMetadata(metadata);
    // A multipart put ends with the metadata copy, whose ETag is the MD5 (see the module comment).
    const etag = digest;
    this.objects.set(key, {
      data,
      etag,
      contentType: options.contentType,
      metadata,
      lastModified: this.now(),
      tags: {},
    });
    return { key, size: data.length, etag, md5: digest, sha256, multipart };
  }

  async addMetadata(key: string, addition: MetadataAddition): Promise<MetadataAdded> {
    const object = this.objects.get(key);
    if (object === undefined) return { added: false, why: 'missing' };
    // CopySourceIfMatch: S3 answers 412 and copies nothing.
    if (object.etag !== addition.ifEtag) return { added: false, why: 'changed' };
    const metadata = {
      ...object.metadata,
      ...addition.metadata,
      [MD5_KEY]: md5HexToBase64(addition.md5),
    };
    assertValidMetadata(metadata);
    const parts = Math.ceil(object.data.length / this.maxCopyBytes);
    // A CopyObject's object has the MD5 of its bytes as ETag; a multipart copy's a `-N` one.
    const etag =
      object.data.length > this.maxCopyBytes
        ? `${md5(Buffer.from(`${object.etag}|copy|${this.now()}`))}-${parts}`
        : md5(object.data);
    this.objects.set(key, { ...object, etag, metadata, lastModified: this.now(), tags: {} });
    return { added: true, etag };
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    for (const key of this.keys()) {
      if (!key.startsWith(prefix)) continue;
      const object = this.objects.get(key);
      if (object === undefined) continue;
      yield { key, size: object.data.length, etag: object.etag, lastModified: object.lastModified };
    }
  }

  async getStream(key: string): Promise<{ readonly head: ObjectHead; readonly body: Readable } | undefined> {
    const object = this.objects.get(key);
    if (object === undefined) return undefined;
    return { head: toHead(key, object), body: Readable.from([object.data]) };
  }
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function toHead(key: string, object: StoredObject): ObjectHead {
  const modifiedTime = parseRcloneMtime(object.metadata[MTIME_KEY]);
  const md5Base64 = object.metadata[MD5_KEY];
  return {
    key,
    size: object.data.length,
    etag: object.etag,
    lastModified: object.lastModified,
    contentType: object.contentType,
    metadata: { ...object.metadata },
    ...(modifiedTime !== undefined && { modifiedTime }),
    ...(md5Base64 !== undefined && { md5Base64 }),
  };
}
