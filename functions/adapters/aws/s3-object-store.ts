/**
 * The archive bucket, bodies streamed in: `S3ArchivingObjectStore` (the download workers: heads,
 * puts, deletes, no lists or reads back) and the whole `S3ObjectStore` (the CLI, the local
 * runtime). Heads, deletes and puts of bytes in memory are `S3ObjectStoreBasics`', lists and reads
 * `S3ObjectStoreWithoutStreaming`'s, which the change detector uses alone so its bundle has no
 * lib-storage (s3-object-store-without-streaming.ts). Bodies stream through a
 * `MeteredStream` (byte count + MD5 + SHA-256) into S3:
 *
 * - A body no larger than `partSize` is read into memory (at most one part) and sent as one
 *   PutObject with `Content-MD5`, so S3 verifies it and its ETag is the MD5 rclone compares.
 *   All metadata, the late metadata included, goes in that one request.
 * - A larger body goes through lib-storage `Upload` with explicit `partSize`/`queueSize`, each
 *   part with its CRC32 (`PART_CHECKSUM`) when the bucket's Object Lock requires a digest (told,
 *   or learnt from S3's first refusal of a part without one: `learnObjectLock`).
 *   S3 fixes metadata at CreateMultipartUpload, before the MD5 exists; so after completion one
 *   same-key CopyObject (`MetadataDirective: REPLACE`, `CopySourceIfMatch` on the new ETag)
 *   adds `md5chksum` and the late metadata. Its cost is one request and a server-side copy
 *   (docs/state.md has the figures). The copy also checks the upload end to end, for free: its
 *   ETag is S3's MD5 of the bytes it stored (`storedMd5`), which must be the MD5 the meter
 *   hashed, or the put fails (`UploadDigestMismatchError`, retryable) and the copy is taken back.
 * - Objects over 5 GiB (`maxCopyBytes`) cannot be copied in one request: the same rewrite is a
 *   multipart copy onto the key (s3-multipart-copy.ts: UploadPartCopy over ranges, each
 *   conditioned on the upload's ETag), so they too end with `md5chksum`, the late metadata and no
 *   staging tag. Its `-N` ETag is no MD5, so it checks nothing end to end: their parts carry a
 *   CRC32 each instead (`PART_CHECKSUM`), which S3 checks on arrival.
 *
 * A failed or aborted put leaves nothing behind: lib-storage aborts the multipart upload when
 * the body fails (the abort signal destroys the body), a multipart copy aborts its own, and an
 * object completed before a late failure (copy failed, signal fired, the copy's MD5 not ours) is deleted again, where the role may
 * delete, with `If-Match` on the ETag of the version the put made current (the upload's, or the
 * copy's once answered; a conditional delete, which needs `s3:GetObject` beside
 * `s3:DeleteObject`): a version another writer made current meanwhile (one whose transfer lease
 * outlived ours, transfer-lease.ts) is never hidden behind a delete marker, nor our own copy whose
 * answer was lost. Not at all when the copy's `CopySourceIfMatch` failed (412): another writer's
 * version is then the current one. The take-back's limit: in a versioned bucket its delete marker
 * covers whatever lay under our version; the lease fencing (transfer-lease.ts) keeps a worker that
 * lost its lease from completing, so nothing of another writer's lies there.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  type CopyObjectCommandOutput,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  ContentLengthMismatchError,
  isObjectLockDigestRefusal,
  ObjectTooLargeError,
  UploadDigestMismatchError,
} from '#domain/errors.ts';
import { PIPELINE_DEFAULTS } from '#shared/config.ts';
import type {
  ArchivingObjectStore,
  BodyDigest,
  ListedObject,
  MetadataAdded,
  MetadataAddition,
  ObjectHead,
  ObjectMetadata,
  ObjectStore,
  PutResult,
  PutStreamOptions,
  ResumableOpenOptions,
  ResumableUpload,
  UploadCheckpoint,
} from '../../ports/object-store.ts';
import { MAX_OBJECT_BYTES } from '../../ports/object-store.ts';
import { COPY_OBJECT_MAX_BYTES, STAGING_TAG, stagingTagFor } from '../../shared/env-names.ts';
import { MeteredStream } from './metered-stream.ts';
import { MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, multipartShape } from './multipart-shape.ts';
import { assertValidMetadata, MD5_KEY, md5HexToBase64 } from './rclone-metadata.ts';
import { copyInParts } from './s3-multipart-copy.ts';
import {
  deleteObjects,
  encryptionOf,
  getObjectStream,
  listObjects,
  S3ObjectStoreBasics,
  type S3ObjectStoreWithoutStreamingOptions,
  statusOf,
  unquote,
  versionOf,
} from './s3-object-store-without-streaming.ts';

export { MIN_PART_SIZE } from './multipart-shape.ts';

export interface S3ObjectStoreOptions extends S3ObjectStoreWithoutStreamingOptions {
  /** Defaults for puts that do not say (8 MiB x 4: about 185 MB of process RSS, docs/benchmarks.md). */
  readonly partSize?: number;
  readonly queueSize?: number;
  /**
   * Every part of a multipart upload carries its CRC32 (`PART_CHECKSUM`): the bucket has Object
   * Lock with a default retention, which refuses parts without a digest. Off by default; the store
   * turns it on itself when S3 refuses a part for want of one (`onObjectLockLearnt`).
   */
  readonly checksumParts?: boolean;
  /**
   * Called once, when S3 refused an upload for want of a digest although the store was not told
   * the bucket has Object Lock (`checksumParts`): it was given Object Lock outside the stack.
   */
  readonly onObjectLockLearnt?: () => void;
  /**
   * The largest object one CopyObject may rewrite: S3's limit, 5 GiB (`MAX_COPY_BYTES`). Smaller
   * only in tests, to take the path of larger objects with a few MiB.
   */
  readonly maxCopyBytes?: number;
  /** Parts per ListParts page when a resumable upload checks its parts (S3's most: 1,000). */
  readonly listPartsPageSize?: number;
}

/**
 * The checksum each part of a multipart upload carries when the store is told the bucket needs
 * one (`checksumParts`): in an `x-amz-checksum-crc32` header, which S3 verifies against the part.
 * A bucket with Object Lock and a default retention (`objectLockMode`, docs/deploy.md) refuses an
 * UploadPart with neither `Content-MD5` nor an `x-amz-checksum-*` header (`400 InvalidRequest`),
 * and the archive's client computes no checksum S3 does not require (ARCHIVE_S3_CLIENT_CONFIG).
 * Naming the algorithm makes lib-storage declare it at CreateMultipartUpload, the SDK compute it
 * for each part (a Buffer: a header, not an aws-chunked trailer, which such a bucket is reported
 * to refuse), and lib-storage list each part's checksum in CompleteMultipartUpload.
 *
 * Also on every upload over the copy limit, whose bytes no single copy's ETag checks afterwards
 * (a 5 GiB video: about 1.2 CPU-s more, 3.5-4.3 % of the handler's 28-35 for it).
 *
 * Only where needed, not on every upload: even native (`zlib.crc32`, Node >= 20.15 and 22) it
 * costs about 0.23 CPU-s per GB through this store, 3.5-4.3 % of the download handler's 5.3-6.5
 * (docs/benchmarks.md, "CRC32 on the parts under Object Lock"), more than the ~3 % it was allowed.
 * Without it, a part is checked by TLS on the way and the whole body by the meter (size, MD5,
 * SHA-256), as before.
 */
const PART_CHECKSUM = 'CRC32';

/** Largest object a single CopyObject can rewrite; larger ones are rewritten in part copies. */
const MAX_COPY_BYTES = COPY_OBJECT_MAX_BYTES;
/**
 * Bytes per part copy of an object over `MAX_COPY_BYTES` (S3 allows up to 5 GiB): smaller parts
 * copied side by side finish sooner than two or three of 5 GiB one after the other, at one
 * PUT-class request each (a 10 GiB video: 20).
 */
const COPY_PART_BYTES = 512 * 1024 * 1024;
/** Part copies at once: server-side, they cost the worker neither memory nor bandwidth. */
const COPY_CONCURRENCY = 8;

/** A conditional take-back's answers that leave the key as it is (see `putMultipart`). */
const NOT_TAKEN_BACK = new Set([403, 404, 409, 412]);

/**
 * The MD5 of the bytes S3 stored, from a CopyObject's answer, when its ETag is one: a single
 * CopyObject (this store copies at most `MAX_COPY_BYTES`) makes a new object whose ETag is the MD5
 * of its bytes, under SSE-S3 (`AES256`) or no encryption (the S3 API reference's `Object.ETag`;
 * s3-etags.ts has the evidence, and the local S3 models it). Under SSE-KMS, DSSE-KMS or SSE-C the
 * ETag is not an MD5, so there is nothing to compare: the upload is then checked by TLS alone, as
 * it was before (`aws:fsx`, `aws:backup` and any other value are not assumed to be MD5s either).
 */
function storedMd5(copied: CopyObjectCommandOutput): string | undefined {
  const encryption = encryptionOf(copied);
  if (encryption !== undefined && encryption !== 'sse-s3') return undefined;
  const etag = unquote(copied.CopyObjectResult?.ETag).toLowerCase();
  return /^[0-9a-f]{32}$/.test(etag) ? etag : undefined;
}

/** An `x-amz-tagging` header value of one tag (ours are plain ASCII: no escaping needed). */
function tagging(tag: { readonly key: string; readonly value: string }): string {
  return `${tag.key}=${tag.value}`;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return Object.assign(new Error('upload aborted', { cause: reason }), { name: 'AbortError' });
}

/** `CopySource` with each key segment percent-encoded (S3, and s3rver which splits before decoding). */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class S3ArchivingObjectStore extends S3ObjectStoreBasics implements ArchivingObjectStore {
  private readonly partSize: number;
  private readonly queueSize: number;
  /** Starts as told (`checksumParts`); turned on for good by the first refusal of a part without one. */
  private checksumParts: boolean;
  private readonly onObjectLockLearnt: (() => void) | undefined;
  protected readonly maxCopyBytes: number;
  private readonly listPartsPageSize: number;

  constructor(options: S3ObjectStoreOptions) {
    super(options);
    this.maxCopyBytes = options.maxCopyBytes ?? MAX_COPY_BYTES;
    this.listPartsPageSize = options.listPartsPageSize ?? 1000;
    this.checksumParts = options.checksumParts ?? false;
    this.onObjectLockLearnt = options.onObjectLockLearnt;
    this.partSize = options.partSize ?? PIPELINE_DEFAULTS.uploadPartSizeMiB * 1024 * 1024;
    this.queueSize = options.queueSize ?? PIPELINE_DEFAULTS.uploadQueueSize;
  }

  async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult> {
    if (this.partSize < MIN_PART_SIZE)
      throw new RangeError(`partSize must be at least ${MIN_PART_SIZE} bytes`);
    // Before a byte is read: S3 could never hold it, and each retry would download it all again.
    if (options.contentLength > MAX_OBJECT_BYTES)
      throw new ObjectTooLargeError(options.contentLength, MAX_OBJECT_BYTES);
    // At most 10,000 parts: a longer body gets larger parts and a shorter queue (multipart-shape.ts).
    const { partSize, queueSize } = multipartShape(options.contentLength, {
      partSize: this.partSize,
      queueSize: this.queueSize,
    });
    const upfront: Record<string, string> = { ...options.metadata };
    assertValidMetadata(upfront);

    const { signal } = options;
    signal?.throwIfAborted();
    const meter = new MeteredStream(options.contentLength);
    const onAbort = () => meter.destroy(abortError(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    // The body's own errors (Apple's connection dropping) must fail the meter too.
    const piping = pipeline(body, meter).catch(() => undefined);
    try {
      if (options.contentLength <= partSize) return await this.putSingle(key, meter, upfront, options);
      return await this.putMultipart(key, meter, upfront, options, partSize, queueSize);
    } catch (error) {
      this.learnObjectLock(error);
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!meter.destroyed) meter.destroy();
      await piping;
    }
  }

  /**
   * A resumable upload (s3-resumable-upload.ts): created as `putStream` creates a multipart one
   * (the up-front metadata, the staging tag), every part with its CRC32, finished as it is.
   */
  async openResumable(
    key: string,
    options: ResumableOpenOptions,
    from: UploadCheckpoint | undefined,
  ): Promise<ResumableUpload> {
    if (options.contentLength > MAX_OBJECT_BYTES)
      throw new ObjectTooLargeError(options.contentLength, MAX_OBJECT_BYTES);
    const upfront: Record<string, string> = { ...options.metadata };
    assertValidMetadata(upfront);
    const shape = multipartShape(options.contentLength, {
      partSize: this.partSize,
      queueSize: this.queueSize,
    });
    // Loaded on this path alone: a chunk of its own beside the workers' bundle (with hash-wasm).
    const { openResumableUpload } = await import('./s3-resumable-upload.ts');
    const on = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});
    return openResumableUpload(
      {
        requests: {
          listParts: (input, signal) => this.client.send(new ListPartsCommand(input), on(signal)),
          uploadPart: (input, signal) => this.client.send(new UploadPartCommand(input), on(signal)),
          complete: (input, signal) =>
            this.client.send(new CompleteMultipartUploadCommand(input), on(signal)),
          abort: (input) => this.client.send(new AbortMultipartUploadCommand(input)),
        },
        limits: { minPartSize: MIN_PART_SIZE, maxPartSize: MAX_PART_SIZE, maxParts: MAX_PARTS },
        lengthMismatch: (expected, received) => new ContentLengthMismatchError(expected, received),
        bucket: this.bucket,
        key,
        contentLength: options.contentLength,
        ...(options.bodyId === undefined ? {} : { bodyId: options.bodyId }),
        shape,
        listPartsPageSize: this.listPartsPageSize,
        ...(options.signal ? { signal: options.signal } : {}),
        create: async () => {
          const created = await this.client.send(
            new CreateMultipartUploadCommand({
              Bucket: this.bucket,
              Key: key,
              ContentType: options.contentType,
              Metadata: upfront,
              Tagging: tagging(stagingTagFor(options.contentLength, this.maxCopyBytes)),
              ChecksumAlgorithm: PART_CHECKSUM,
              ...this.classed,
            }),
            on(options.signal),
          );
          if (created.UploadId === undefined) throw new Error('CreateMultipartUpload answered no upload id');
          return created.UploadId;
        },
        head: () => this.head(key),
        finish: (etag, digest) => this.finishUpload(key, etag, digest, upfront, options, true),
      },
      from,
    );
  }

  /**
   * A bucket given Object Lock and a default retention outside the stack (the S3 console allows it
   * on a versioned bucket) refuses every part sent without a digest: from the first such refusal
   * on, this store sends each part's CRC32, as if told by `checksumParts`. The refused put still
   * fails, retryable (`isObjectLockDigestRefusal`): the parts lib-storage had read from the body
   * are gone, and buffering the first parts of every upload to replay them would cost memory on
   * every video for a refusal met once per process; the message's redelivery fetches the body
   * again and stores it. A refusal while already sending digests teaches nothing (it stays
   * retryable, and a message that keeps meeting it ends in the dead-letter queue).
   */
  private learnObjectLock(error: unknown): void {
    if (this.checksumParts || !isObjectLockDigestRefusal(error)) return;
    this.checksumParts = true;
    this.onObjectLockLearnt?.();
  }

  private async putSingle(
    key: string,
    meter: MeteredStream,
    upfront: ObjectMetadata,
    options: PutStreamOptions,
  ): Promise<PutResult> {
    const data = await readAll(meter);
    const digest = meter.digest();
    const metadata = { ...upfront, ...options.lateMetadata?.(digest) };
    return this.putWhole(key, data, digest, metadata, options.contentType, options.signal);
  }

  private async putMultipart(
    key: string,
    meter: MeteredStream,
    upfront: ObjectMetadata,
    options: PutStreamOptions,
    partSize: number,
    queueSize: number,
  ): Promise<PutResult> {
    const upload = new Upload({
      client: this.client,
      partSize,
      queueSize,
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: meter,
        ContentType: options.contentType,
        Metadata: upfront,
        ...this.classed,
        // Marks this first version for early expiry once the copy below supersedes it (over the
        // copy limit with a tag of its own: infra/archive-bucket.ts's lifecycle rules say why).
        Tagging: tagging(stagingTagFor(options.contentLength, this.maxCopyBytes)),
        // Over the copy limit too: no single copy's ETag checks those bytes end to end afterwards.
        ...((this.checksumParts || options.contentLength > this.maxCopyBytes) && {
          ChecksumAlgorithm: PART_CHECKSUM,
        }),
      },
    });
    const completed = await upload.done();
    return this.finishUpload(key, unquote(completed.ETag), meter.digest(), upfront, options);
  }

  /**
   * What every multipart upload ends with once S3 completed it as `etag` (this put's, or a
   * resumed upload's, s3-resumable-upload.ts): the rewrite that adds `md5chksum` and the late
   * metadata and drops the staging tag, checked against `digest` where the copy's ETag is an MD5,
   * and the take-back of the completed object when anything of it fails: of a resumed upload's
   * (`keepCompleted`) only when S3 stored other bytes than were hashed, else it stays staged for
   * the next delivery to finish (its checkpoint names it: s3-resumable-upload.ts).
   */
  protected async finishUpload(
    key: string,
    etag: string,
    digest: BodyDigest,
    upfront: ObjectMetadata,
    options: PutStreamOptions,
    keepCompleted = false,
  ): Promise<PutResult> {
    const { md5, sha256, bytes } = digest;
    /** The ETag of the version this put made current: what a take-back may delete (`If-Match`). */
    let current = etag;
    try {
      options.signal?.throwIfAborted();
      const metadata = { ...upfront, ...options.lateMetadata?.(digest), [MD5_KEY]: md5HexToBase64(md5) };
      assertValidMetadata(metadata);
      const replacement = { metadata, tagging: '', contentType: options.contentType };
      if (options.contentLength > this.maxCopyBytes) {
        // Too large for one CopyObject: the same rewrite in part copies (s3-multipart-copy.ts).
        // Its ETag is a multipart one, no MD5 of the bytes: nothing to compare with the meter's.
        const copied = await this.rewriteInParts(key, etag, bytes, replacement, options.signal);
        current = copied.etag || etag;
        return {
          key,
          size: bytes,
          etag: current,
          md5,
          sha256,
          multipart: true,
          ...versionOf(copied.versionId),
        };
      }
      const copied = await this.rewriteInPlace(key, etag, replacement, options.signal);
      current = unquote(copied.CopyObjectResult?.ETag) || etag;
      // S3 hashed what it stored; TLS alone checked the parts on the way (none carries a digest
      // unless the bucket has Object Lock). Other bytes than the meter hashed: the copy, now
      // current, is taken back below, and the retry sends the body again.
      const stored = storedMd5(copied);
      if (stored !== undefined && stored !== md5) throw new UploadDigestMismatchError(md5, stored);
      return {
        key,
        size: bytes,
        etag: current,
        md5,
        sha256,
        multipart: true,
        ...versionOf(copied.VersionId),
      };
    } catch (error) {
      // Completed but not finished: take the object back so a failed put leaves nothing.
      const failure = options.signal?.aborted ? abortError(options.signal) : error;
      // Unless the copy was refused for its condition: the key's current version is then another
      // writer's (one whose transfer lease outlived ours, transfer-lease.ts), which a delete would
      // hide; ours is already noncurrent, tagged as staging, and the lifecycle rule expires it.
      if (statusOf(error) === 412 || (keepCompleted && !(error instanceof UploadDigestMismatchError)))
        throw failure;
      try {
        // Only the version this put made current: `If-Match` its ETag (the upload's, or the
        // copy's once S3 answered it: a copy of other bytes than we sent). Anything else current
        // is not ours to take back: another writer's that landed meanwhile, or our own copy that
        // S3 applied though its answer was lost (it has `md5chksum`: a retry adopts it).
        await this.client.send(
          new DeleteObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: `"${current}"` }),
        );
      } catch (deleteError) {
        // 412: the current version has another ETag; 409: a write or delete raced ours; 404:
        // nothing is current. Each leaves the key as it is, and the put's own failure stands.
        // 403: under the `keep` policy the worker's role may not delete (infra/archive-bucket.ts):
        // the staged version stays, without `md5chksum`, so no retry adopts it as archived; the
        // retry's put supersedes it and the staging lifecycle rule expires it. A corrupt copy has
        // our `md5chksum`: it is staged again first (`unmark`).
        if (statusOf(deleteError) === 403 && error instanceof UploadDigestMismatchError)
          await this.unmark(key, current, upfront, options.contentType).catch(() => undefined);
        if (NOT_TAKEN_BACK.has(statusOf(deleteError) ?? 0)) throw failure;
        throw new AggregateError(
          [failure, deleteError],
          `put of an object failed and it could not be removed`,
        );
      }
      throw failure;
    }
  }

  /**
   * Gives a corrupt copy the role may not delete (`keep`) back the metadata the upload started
   * with and the staging tag: without `md5chksum` no retry adopts it as archived (archive-asset's
   * `adoptExisting`), the retry's put supersedes it and the lifecycle rule expires it. Only if it
   * is still the current version (`CopySourceIfMatch`). Best effort: one more copy, only after a
   * corrupt upload under `keep`; should it fail too, the copy keeps `md5chksum` until a put
   * supersedes it, and no retry adopts it still: its ETag, S3's MD5 of its bytes, is not that MD5.
   */
  private async unmark(
    key: string,
    etag: string,
    upfront: ObjectMetadata,
    contentType: string,
  ): Promise<void> {
    await this.rewriteInPlace(key, etag, {
      metadata: upfront,
      tagging: tagging(STAGING_TAG),
      contentType,
    });
  }

  /**
   * `rewriteInPlace` for an object over `maxCopyBytes`: a multipart copy onto the key
   * (s3-multipart-copy.ts), every part conditioned on `etag`; its tags are dropped.
   */
  protected rewriteInParts(
    key: string,
    etag: string,
    size: number,
    replacement: { readonly metadata: ObjectMetadata; readonly contentType: string },
    signal?: AbortSignal,
  ): Promise<{ etag: string; versionId?: string }> {
    return copyInParts({
      client: this.client,
      bucket: this.bucket,
      key,
      copySource: copySource(this.bucket, key),
      etag,
      size,
      contentType: replacement.contentType,
      metadata: replacement.metadata,
      ...(this.classed.StorageClass === undefined ? {} : { storageClass: this.classed.StorageClass }),
      partBytes: Math.min(this.maxCopyBytes, COPY_PART_BYTES),
      concurrency: COPY_CONCURRENCY,
      signal,
    });
  }

  /**
   * A same-key CopyObject that replaces the object's metadata and tags, only while `etag` is the
   * current version's (`CopySourceIfMatch`: else 412, and another writer's version is left alone).
   */
  protected rewriteInPlace(
    key: string,
    etag: string,
    replacement: {
      readonly metadata: ObjectMetadata;
      readonly tagging: string;
      readonly contentType: string;
    },
    signal?: AbortSignal,
  ): Promise<CopyObjectCommandOutput> {
    return this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: key,
        CopySource: copySource(this.bucket, key),
        CopySourceIfMatch: `"${etag}"`,
        MetadataDirective: 'REPLACE',
        TaggingDirective: 'REPLACE',
        Tagging: replacement.tagging,
        ContentType: replacement.contentType,
        Metadata: replacement.metadata,
        // A copy that names no class writes STANDARD, whatever the source's.
        ...this.classed,
      }),
      signal ? { abortSignal: signal } : {},
    );
  }
}

/** The whole store: `S3ArchivingObjectStore`, and lists and reads as `S3ObjectStoreWithoutStreaming`'s. */
export class S3ObjectStore extends S3ArchivingObjectStore implements ObjectStore {
  private readonly listPageSize: number;

  constructor(options: S3ObjectStoreOptions) {
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

  /**
   * The puts' own rewrite (one CopyObject up to `maxCopyBytes`, a multipart copy over it), with the
   * object's metadata as its head states it plus the addition and `md5chksum`, its content type,
   * no tags. A HEAD first (the metadata and size to copy), then the copy conditioned on `ifEtag`:
   * whatever became current between the two is answered 412 and left alone. Needs s3:GetObject,
   * s3:PutObject and s3:PutObjectTagging (a copy that sets the tag set, empty here).
   */
  async addMetadata(key: string, addition: MetadataAddition): Promise<MetadataAdded> {
    const head = await this.head(key);
    if (head === undefined) return { added: false, why: 'missing' };
    if (head.etag !== addition.ifEtag) return { added: false, why: 'changed' };
    const metadata = { ...head.metadata, ...addition.metadata, [MD5_KEY]: md5HexToBase64(addition.md5) };
    assertValidMetadata(metadata);
    // S3's own default for an object stored without one.
    const contentType = head.contentType ?? 'binary/octet-stream';
    try {
      if (head.size > this.maxCopyBytes) {
        const copied = await this.rewriteInParts(key, head.etag, head.size, { metadata, contentType });
        return { added: true, etag: copied.etag, ...versionOf(copied.versionId) };
      }
      const copied = await this.rewriteInPlace(key, head.etag, { metadata, tagging: '', contentType });
      return {
        added: true,
        etag: unquote(copied.CopyObjectResult?.ETag),
        ...versionOf(copied.VersionId),
      };
    } catch (error) {
      if (statusOf(error) === 412) return { added: false, why: 'changed' };
      if (statusOf(error) === 404) return { added: false, why: 'missing' };
      throw error;
    }
  }
}
