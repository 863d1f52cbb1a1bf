/**
 * The one stream every archived byte passes: it counts the bytes of an upload body against the
 * size CloudKit reported and hashes them (MD5 for rclone, SHA-256 for the manifest) in one pass.
 * It fails as soon as the count can no longer match: early when there are too many bytes, and,
 * for too few, before the last chunk is released downstream (it holds the newest chunk back), so
 * a failed body makes lib-storage abort the multipart upload instead of completing a wrong object.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ContentLengthMismatchError } from '#domain/errors.ts';
import type { BodyDigest } from '#ports/object-store.ts';

export class MeteredStream extends Transform {
  readonly expectedLength: number;
  private received = 0;
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');
  private held: Buffer | undefined;
  private result: BodyDigest | undefined;

  constructor(expectedLength: number) {
    super();
    this.expectedLength = expectedLength;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.expectedLength) {
      callback(new ContentLengthMismatchError(this.expectedLength, this.received));
      return;
    }
    this.md5.update(chunk);
    this.sha256.update(chunk);
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
    if (this.result === undefined) throw new Error('the body has not ended yet');
    return this.result;
  }
}
