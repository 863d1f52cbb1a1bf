/**
 * A pass-through that counts and MD5-hashes the bytes of an upload body, and fails the stream
 * as soon as the count can no longer match the size CloudKit reported: early when there are too
 * many bytes, at the end when there are too few. A failed body makes lib-storage abort the
 * multipart upload instead of completing a wrong object.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ContentLengthMismatchError } from '../../domain/errors.ts';

export class MeteredStream extends Transform {
  readonly expectedLength: number;
  private received = 0;
  private readonly md5: Hash = createHash('md5');
  private md5Hex: string | undefined;

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
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.received !== this.expectedLength) {
      callback(new ContentLengthMismatchError(this.expectedLength, this.received));
      return;
    }
    this.md5Hex = this.md5.digest('hex');
    callback();
  }

  get bytes(): number {
    return this.received;
  }

  /** Lower-case hex MD5 of everything that passed; only after the stream ended intact. */
  digestHex(): string {
    if (this.md5Hex === undefined) throw new Error('the body has not ended yet');
    return this.md5Hex;
  }
}
