/**
 * The archive bucket for users that write only bodies they already hold (the change detector:
 * album views, catalog journals and shards): heads, lists, reads, deletes, and puts of bytes in
 * memory, each one PutObject with `Content-MD5` (S3 verifies it, and its ETag is the MD5 rclone
 * compares) and `md5chksum`. No lib-storage: streamed puts, multipart included, are
 * `S3ArchivingObjectStore`'s (s3-object-store.ts). Both build on `S3ObjectStoreBasics` (heads, puts
 * of bytes, deletes); lists and reads back (`listObjects`, `getObjectStream`) are the detector's
 * and the whole `S3ObjectStore`'s, never the download workers'.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  type BodyDigest,
  type ListedObject,
  MAX_KEYS_PER_DELETE,
  type ObjectEncryption,
  type ObjectHead,
  type ObjectMetadata,
  type ObjectStoreBasics,
  type ObjectStoreWithoutStreaming,
  type PutBytesOptions,
  type PutResult,
} from '../../ports/object-store.ts';
import {
  assertValidMetadata,
  MD5_KEY,
  MTIME_KEY,
  md5HexToBase64,
  parseRcloneMtime,
} from './rclone-metadata.ts';
import { signWithUnsignedPayload } from './s3-unsigned-payload.ts';

export interface S3ObjectStoreBasicsOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /**
   * The class every object is written in (PutObject, CreateMultipartUpload, CopyObject), when the
   * bucket's lifecycle would move it there on day 0 (`ARCHIVE_STORAGE_CLASS`): written there at
   * once, no transition to pay. Unset: S3's STANDARD, and the lifecycle rule moves it.
   */
  readonly storageClass?: ArchiveStorageClass;
}

/** The one class named on writes: Intelligent-Tiering has no minimum size or duration to pay. */
export type ArchiveStorageClass = 'INTELLIGENT_TIERING';

export interface S3ObjectStoreWithoutStreamingOptions extends S3ObjectStoreBasicsOptions {
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1000). */
  readonly listPageSize?: number;
}

export function statusOf(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return metadata?.httpStatusCode;
}

export function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

export function versionOf(versionId: string | undefined): { versionId?: string } {
  return versionId === undefined ? {} : { versionId };
}

/** What the head says of the object's encryption at rest; undefined when it says nothing. */
export function encryptionOf(
  output: Pick<HeadObjectCommandOutput, 'ServerSideEncryption' | 'SSECustomerAlgorithm'>,
): ObjectEncryption | undefined {
  if (output.SSECustomerAlgorithm !== undefined) return 'sse-c';
  const sse = output.ServerSideEncryption;
  if (sse === undefined) return undefined;
  return sse === 'AES256'
    ? 'sse-s3'
    : sse === 'aws:kms'
      ? 'sse-kms'
      : sse === 'aws:kms:dsse'
        ? 'dsse-kms'
        : 'other';
}

function toHead(key: string, output: HeadObjectCommandOutput): ObjectHead {
  const metadata = output.Metadata ?? {};
  const modifiedTime = parseRcloneMtime(metadata[MTIME_KEY]);
  const md5Base64 = metadata[MD5_KEY];
  const encryption = encryptionOf(output);
  return {
    key,
    size: output.ContentLength ?? 0,
    etag: unquote(output.ETag),
    lastModified: output.LastModified?.getTime() ?? 0,
    metadata,
    ...(output.ContentType !== undefined && { contentType: output.ContentType }),
    ...(modifiedTime !== undefined && { modifiedTime }),
    ...(md5Base64 !== undefined && { md5Base64 }),
    ...(output.VersionId !== undefined && { versionId: output.VersionId }),
    ...(encryption !== undefined && { encryption }),
  };
}

export class S3ObjectStoreBasics implements ObjectStoreBasics {
  protected readonly client: S3Client;
  protected readonly bucket: string;
  /** `{ StorageClass }` spread into every write, or nothing. */
  protected readonly classed: { readonly StorageClass?: ArchiveStorageClass };

  constructor(options: S3ObjectStoreBasicsOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.classed = options.storageClass === undefined ? {} : { StorageClass: options.storageClass };
    // Every body is hashed before it leaves and sent with Content-MD5 (or, streamed, counted and
    // hashed by the meter): SigV4 need not hash it again.
    signWithUnsignedPayload(this.client);
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return toHead(key, output);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async putBytes(key: string, body: Uint8Array, options: PutBytesOptions): Promise<PutResult> {
    const upfront: Record<string, string> = { ...options.metadata };
    assertValidMetadata(upfront);
    options.signal?.throwIfAborted();
    const digest: BodyDigest = {
      bytes: body.byteLength,
      md5: createHash('md5').update(body).digest('hex'),
      sha256: createHash('sha256').update(body).digest('hex'),
    };
    return this.putWhole(key, body, digest, upfront, options.contentType, options.signal);
  }

  /** One PutObject of a body held whole, `md5chksum` added to `metadata`. */
  protected async putWhole(
    key: string,
    body: Uint8Array,
    digest: BodyDigest,
    metadata: ObjectMetadata,
    contentType: string,
    signal: AbortSignal | undefined,
  ): Promise<PutResult> {
    const md5Base64 = md5HexToBase64(digest.md5);
    const withMd5 = { ...metadata, [MD5_KEY]: md5Base64 };
    assertValidMetadata(withMd5);
    const output = await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.byteLength,
        ContentType: contentType,
        ContentMD5: md5Base64,
        Metadata: withMd5,
        ...this.classed,
      }),
      signal ? { abortSignal: signal } : {},
    );
    return {
      key,
      size: body.byteLength,
      etag: unquote(output.ETag),
      md5: digest.md5,
      sha256: digest.sha256,
      multipart: false,
      ...versionOf(output.VersionId),
    };
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}

export class S3ObjectStoreWithoutStreaming
  extends S3ObjectStoreBasics
  implements ObjectStoreWithoutStreaming
{
  private readonly listPageSize: number;

  constructor(options: S3ObjectStoreWithoutStreamingOptions) {
    super(options);
    this.listPageSize = options.listPageSize ?? 1000;
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    return listObjects(this.client, this.bucket, prefix, this.listPageSize);
  }

  getStream(key: string): Promise<{ readonly head: ObjectHead; readonly body: Readable } | undefined> {
    return getObjectStream(this.client, this.bucket, key);
  }

  deleteMany(keys: readonly string[]): Promise<void> {
    return deleteObjects(this.client, this.bucket, keys);
  }
}

/**
 * Removes `keys` (`ObjectStoreWithoutStreaming.deleteMany`): one DeleteObjects per
 * `MAX_KEYS_PER_DELETE`, in turn, each `Quiet` (S3 answers only the keys it could not delete).
 * S3 requires an integrity header on DeleteObjects: the SDK adds its CRC32 checksum even under
 * `requestChecksumCalculation: 'WHEN_REQUIRED'` (test/adapters/aws-s3-object-store.test.ts). The
 * IAM action is each key's `s3:DeleteObject`. A 200 that lists per-key errors is a failure.
 */
export async function deleteObjects(
  client: S3Client,
  bucket: string,
  keys: readonly string[],
): Promise<void> {
  for (let from = 0; from < keys.length; from += MAX_KEYS_PER_DELETE) {
    const batch = keys.slice(from, from + MAX_KEYS_PER_DELETE);
    const output = await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const errors = output.Errors ?? [];
    if (errors.length > 0) {
      const named = errors
        .slice(0, 5)
        .map((e) => `${e.Key ?? '?'} (${e.Code ?? 'unknown'}: ${e.Message ?? ''})`)
        .join(', ');
      throw new Error(`S3 did not delete ${errors.length} of ${batch.length} keys: ${named}`);
    }
  }
}

/** Every object under `prefix` (`ObjectStoreWithoutStreaming.list`), `pageSize` keys per ListObjectsV2. */
export async function* listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  pageSize: number,
): AsyncIterable<ListedObject> {
  const pages = paginateListObjectsV2({ client, pageSize }, { Bucket: bucket, Prefix: prefix });
  for await (const page of pages) {
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      yield {
        key: object.Key,
        size: object.Size ?? 0,
        etag: unquote(object.ETag),
        lastModified: object.LastModified?.getTime() ?? 0,
      };
    }
  }
}

/** The object's bytes and head (`ObjectStoreWithoutStreaming.getStream`), or undefined when there is none. */
export async function getObjectStream(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ readonly head: ObjectHead; readonly body: Readable } | undefined> {
  try {
    const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = output.Body;
    if (!(body instanceof Readable)) throw new TypeError('S3 returned a body that is not a Node stream');
    return { head: toHead(key, output), body };
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}
