/**
 * The archive's bytes: a flat key space of immutable objects (S3 in AWS, an in-memory map in
 * tests). Objects are written once, from a stream or from bytes already in memory, read back for
 * `verify`, listed by prefix.
 *
 * Every object the store writes carries what a NAS mirror needs (rclone's conventions): its
 * modification time, and an MD5 rclone can compare (the ETag of a single-part object, the
 * `md5chksum` metadata otherwise).
 */
import type { Readable } from 'node:stream';

/** User metadata: lower-case keys of `[a-z0-9-]`, printable US-ASCII values. */
export type ObjectMetadata = Readonly<Record<string, string>>;

/**
 * How S3 encrypts an object at rest, as its head states it (`ServerSideEncryption`: `AES256`,
 * `aws:kms`, `aws:kms:dsse`, any other value; `SSECustomerAlgorithm` for SSE-C). It decides what
 * an ETag is: only under `sse-s3` (or none) is a single-part object's ETag the MD5 of its bytes.
 */
export type ObjectEncryption = 'sse-s3' | 'sse-kms' | 'dsse-kms' | 'sse-c' | 'other';

export interface ObjectHead {
  readonly key: string;
  readonly size: number;
  /** As the server sent it, without quotes. */
  readonly etag: string;
  readonly lastModified: number;
  readonly contentType?: string;
  /** The `mtime` metadata parsed back to ms, when present. */
  readonly modifiedTime?: number;
  /** The base64 MD5 from `md5chksum`, when present. */
  readonly md5Base64?: string;
  /** All user metadata, `mtime` and `md5chksum` included. */
  readonly metadata: ObjectMetadata;
  readonly versionId?: string;
  /** Absent when the server states none (the local S3 and the in-memory store do not). */
  readonly encryption?: ObjectEncryption;
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
}

export interface PutStreamOptions {
  readonly contentType: string;
  /** The exact byte count of the body; a body of another length fails and leaves nothing. */
  readonly contentLength: number;
  /**
   * The object's user metadata as the domain built it, rclone's `mtime` included (the store
   * validates it and sends it as is; it computes none of it but `md5chksum`).
   */
  readonly metadata?: ObjectMetadata;
  /**
   * Metadata only known once the body has been read to its end (its hashes). Called once with
   * the body's digest, after the last byte, before the object is final.
   */
  readonly lateMetadata?: (digest: BodyDigest) => ObjectMetadata;
  /** Aborting fails the put and leaves neither an object nor an open multipart upload. */
  readonly signal?: AbortSignal;
}

export interface PutBytesOptions {
  readonly contentType: string;
  /** As `PutStreamOptions.metadata`: the store adds `md5chksum` alone. */
  readonly metadata?: ObjectMetadata;
  /** Aborting fails the put and leaves no object. */
  readonly signal?: AbortSignal;
}

/** Size and hashes of a body, computed by the store in the one pass that counts its bytes. */
export interface BodyDigest {
  readonly bytes: number;
  /** Lower-case hex. */
  readonly md5: string;
  /** Lower-case hex. */
  readonly sha256: string;
}

export interface PutResult {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  /** Lower-case hex MD5 of the body (computed while streaming). */
  readonly md5: string;
  /** Lower-case hex SHA-256 of the body (computed in the same pass). */
  readonly sha256: string;
  readonly multipart: boolean;
  readonly versionId?: string;
}

/** What every part of the store has: one object's head, a put of bytes held in memory, a delete. */
export interface ObjectStoreBasics {
  /** The object's head, or undefined when there is none. */
  head(key: string): Promise<ObjectHead | undefined>;
  /**
   * Writes `body` to `key` in one request (S3 takes up to 5 GiB in one PUT), with the same
   * metadata a streamed put of those bytes gets: the caller's, plus `md5chksum`; the ETag is the
   * body's MD5. A rejected put leaves no object.
   */
  putBytes(key: string, body: Uint8Array, options: PutBytesOptions): Promise<PutResult>;
  /** Removes the object; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
}

/**
 * The store for users that write only bodies they already hold in memory (the change detector:
 * album views, catalog journals and shards): no streamed put, so its S3 adapter carries no
 * multipart upload code.
 */
export interface ObjectStoreWithoutStreaming extends ObjectStoreBasics {
  /** Every object under `prefix`, in key order (UTF-8 byte order), page by page. */
  list(prefix: string): AsyncIterable<ListedObject>;
  /** The object's bytes, or undefined when there is none. */
  getStream(key: string): Promise<{ readonly head: ObjectHead; readonly body: Readable } | undefined>;
  /**
   * Removes every object of `keys` (missing ones are not an error) in as few requests as the
   * store allows (S3: one DeleteObjects per `MAX_KEYS_PER_DELETE`). Rejects if any key could not
   * be removed; the others may be gone already.
   */
  deleteMany(keys: readonly string[]): Promise<void>;
}

/** Keys one S3 DeleteObjects request takes at most. */
export const MAX_KEYS_PER_DELETE = 1000;

/**
 * The store as archiving uses it (the download workers: their Lambda composes this alone): bodies
 * streamed in, heads and deletes, no listing or reading back.
 */
export interface ArchivingObjectStore extends ObjectStoreBasics {
  /**
   * Streams `body` into `key` without holding more than about `partSize * queueSize` bytes (the
   * store's own settings, given when it is built: bodies up to one part go in a single request).
   * Counts the bytes against `contentLength` (`ContentLengthMismatchError` otherwise) and hashes
   * them in the same pass: the only place an archived body is counted and hashed.
   * Rejects with an `AbortError` when `signal` fires. A rejected put leaves no object.
   */
  putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult>;
  /**
   * Opens a resumable upload of `options.contentLength` bytes at `key` (a video too long for one
   * worker invocation: archive-asset.ts): it continues `from` when S3 still holds exactly the
   * parts `from` counts, else starts over from byte 0 (aborting what `from` left). Absent in
   * stores that have none: every body then goes through `putStream`.
   */
  openResumable?(
    key: string,
    options: ResumableOpenOptions,
    from: UploadCheckpoint | undefined,
  ): Promise<ResumableUpload>;
}

/**
 * Where a resumable upload stands, as the next invocation needs it to go on: S3's multipart upload
 * and the state of the hashes after its first `bytes` bytes. Saved durably by the caller
 * (fenced by its transfer lease); S3's parts are checked against it before they are used.
 */
export interface UploadCheckpoint {
  /** The multipart upload S3 holds the parts in. */
  readonly uploadId: string;
  /** The body's whole length: a checkpoint of another length belongs to another file. */
  readonly contentLength: number;
  /** What the body is, as the caller named it (Apple's `fileChecksum`): another is another file. */
  readonly bodyId?: string;
  /** Bytes of every part but the last. */
  readonly partSize: number;
  /** Parts 1 to `parts` are stored, each `partSize` bytes (the last one shorter). */
  readonly parts: number;
  /** `parts x partSize` (the body's length once every part is): the byte the body resumes at. */
  readonly bytes: number;
  /** The MD5's and the SHA-256's states after `bytes` bytes (base64, opaque). */
  readonly md5State: string;
  readonly sha256State: string;
  /**
   * Saved before the completion, once every part is stored: the ETag the completed object is
   * expected to have ('' when not known), S3's own once it answered. The next delivery then only
   * completes the upload (still open) or finishes the object S3 completed with that ETag: no byte
   * is downloaded again.
   */
  readonly etag?: string;
}

export interface ResumableOpenOptions extends PutStreamOptions {
  /** Names the body (Apple's `fileChecksum`): a checkpoint of another `bodyId` is not continued. */
  readonly bodyId?: string;
}

/** Why a checkpoint was not continued (the upload starts over from byte 0). */
export type ResumeRefusal =
  /** Another length or `bodyId`, or a part size this store would not use. */
  | 'another-body'
  /** S3 no longer knows the upload (completed, aborted: the lifecycle rule aborts stale ones). */
  | 'no-such-upload'
  /** A part it counts is missing or of another size. */
  | 'parts-differ'
  /** The hashes' states are not ones this build can load. */
  | 'state-unreadable';

export interface ResumableUpload {
  /** Bytes already stored: the body given to `transfer` must start at this byte. */
  readonly offset: number;
  /** Why the checkpoint given was not continued, when one was given and was not. */
  readonly restarted?: ResumeRefusal;
  /**
   * Streams the body from `offset` on, part by part, each with its CRC32, counted against the
   * length and hashed. Resolves `{ done }` once the object is complete and finished as
   * `putStream`'s (late metadata, `md5chksum`, no staging tag), or `{ paused }` when `pause`
   * fired: it stopped reading, waited for the parts in flight, and returns the checkpoint at the
   * last part of an unbroken run from part 1, which it has saved through `save` first. Rejects
   * when `signal` fires or anything fails; the parts stay for a later resume when a checkpoint
   * was saved for this upload (a rejection saves one when parts were added and `save` succeeds),
   * and the upload is aborted otherwise, or when the body had more bytes than declared (a body
   * that ends short keeps them: the next delivery asks for the rest). Before the completion it
   * saves a checkpoint with `etag`; a failure after it leaves the completed object staged (unless
   * S3 stored other bytes than were hashed) for the next delivery to finish. When `offset` is the
   * whole length (such a checkpoint continued) the body is empty and only the finish is left.
   */
  transfer(
    body: Readable,
    options: {
      readonly pause?: AbortSignal;
      readonly save: (checkpoint: UploadCheckpoint) => Promise<void>;
    },
  ): Promise<{ readonly done: PutResult } | { readonly paused: UploadCheckpoint }>;
  /** Aborts the multipart upload (nothing of it stays); an upload S3 no longer knows is no error. */
  abort(): Promise<void>;
}

/** What `addMetadata` adds to an object's own metadata. */
export interface MetadataAddition {
  /** The ETag (unquoted) the current version must still have: else nothing is rewritten. */
  readonly ifEtag: string;
  /** Lower-case hex MD5 of the object's bytes: the store writes it as `md5chksum`, as its puts do. */
  readonly md5: string;
  /** Further keys to add (validated as a put's); they replace keys of the same name. */
  readonly metadata: ObjectMetadata;
}

/** `addMetadata`'s outcome: the new version, or why nothing was rewritten. */
export type MetadataAdded =
  | { readonly added: true; readonly etag: string; readonly versionId?: string }
  /** `changed`: the current version is not `ifEtag` (another writer's); `missing`: none is. */
  | { readonly added: false; readonly why: 'changed' | 'missing' };

/** The whole store (the CLI, the local runtime): both of the above, and `addMetadata`. */
export interface ObjectStore extends ObjectStoreWithoutStreaming, ArchivingObjectStore {
  /**
   * Rewrites the object at `key` onto itself, server-side (its bytes pass through no one), with its
   * own metadata plus `addition`'s and `md5chksum`, its content type, and no tags; only while its
   * current version's ETag is `ifEtag` (S3: `CopySourceIfMatch`, on every part copy over 5 GiB),
   * so another writer's version is never copied over. For objects the workers archived before
   * they gave videos over 5 GiB their late metadata (`verify --repair`). On a versioned bucket the
   * rewrite is a new version: the old one becomes noncurrent, kept for the undo window.
   */
  addMetadata(key: string, addition: MetadataAddition): Promise<MetadataAdded>;
}

/**
 * Bytes of the largest object the archive stores: S3's largest, 10,000 parts of 5 GiB (48.8 TiB,
 * "Amazon S3 multipart upload limits", https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html;
 * it was 5 TiB until 2025). A larger version is refused before its download starts.
 */
export const MAX_OBJECT_BYTES = 10_000 * 5 * 1024 * 1024 * 1024;
