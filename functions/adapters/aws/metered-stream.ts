/**
 * The one stream every archived byte passes: it counts the bytes of an upload body against the
 * size CloudKit reported and hashes them (MD5 for rclone, SHA-256 for the manifest) in one pass.
 * It fails as soon as the count can no longer match: early when there are too many bytes, and,
 * for too few, before the last chunk is released downstream (it holds the newest chunk back), so
 * a failed body makes lib-storage abort the multipart upload instead of completing a wrong object.
 * With `hash: false` it only counts: for a body its reader hashes whole once it has arrived
 * (the single put with a `wholeBodyDigester`, s3-object-store.ts); `digest()` then refuses.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ContentLengthMismatchError } from '#domain/errors.ts';
import type { BodyDigest } from '#ports/object-store.ts';

export class MeteredStream extends Transform {
  readonly expectedLength: number;
  private received = 0;
  private readonly md5: Hash | undefined;
  private readonly sha256: Hash | undefined;
  private held: Buffer | undefined;
  private result: BodyDigest | undefined;

  constructor(expectedLength: number, options: { readonly hash?: boolean } = {}) {
    super();
    this.expectedLength = expectedLength;
    if (options.hash !== false) {
      this.md5 = createHash('md5');
      this.sha256 = createHash('sha256');
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.expectedLength) {
      callback(new ContentLengthMismatchError(this.expectedLength, this.received));
      return;
    }
    this.md5?.update(chunk);
    this.sha256?.update(chunk);
    // Hold the newest chunk back so a short body fails before its final bytes go downstream.
    const previous = this.held;
    this.held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    if (this.received !== this.expectedLength) {
      callback(new ContentLengthMismatchError(this.expectedLength, this.received));
      return;
    }
    if (this.md5 !== undefined && this.sha256 !== undefined)
      this.result = {
        bytes: this.received,
        md5: this.md5.digest('hex'),
        sha256: this.sha256.digest('hex'),
      };
    callback(null, this.held);
  }

  get bytes(): number {
    return this.received;
  }

  /** Size and hashes of everything that passed; only after the stream ended intact. */
  digest(): BodyDigest {
    if (this.md5 === undefined) throw new Error('this meter counts without hashing');
    if (this.result === undefined) throw new Error('the body has not ended yet');
    return this.result;
  }
}
