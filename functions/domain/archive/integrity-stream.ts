/**
 * The check every downloaded byte passes on its way to the archive: it counts the bytes against
 * the size CloudKit reported, hashes them (SHA-256 for the manifest; the object store computes the
 * MD5 rclone compares as it uploads), and refuses a body that is an error page instead of media.
 * It never holds more than one chunk.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ContentLengthMismatchError, UnexpectedResponseError } from '../errors.ts';

/** How error pages begin (spec §5.5): HTML, or Apple's JSON error bodies. Compared case-insensitively. */
const ERROR_PAGE_PREFIXES = ['<html', '<!doctype', '{"error"', '{"errors"', '{"message"', '{"code"', '{}'];
const SNIFF_BYTES = 16;

export interface IntegrityDigest {
  readonly bytes: number;
  /** Lower-case hex. */
  readonly sha256: string;
}

/** True when the first bytes of a body look like an error page rather than media. */
export function looksLikeErrorPage(head: Buffer): boolean {
  const text = head.subarray(0, SNIFF_BYTES).toString('latin1').trimStart().toLowerCase();
  return ERROR_PAGE_PREFIXES.some((prefix) => text.startsWith(prefix));
}

/**
 * A pass-through stream that fails (before its last byte is released downstream) when the body
 * is longer or shorter than `expectedSize`, or starts like an error page. `digest()` is available
 * once the stream has ended.
 */
export class IntegrityStream extends Transform {
  readonly #expectedSize: number;
  readonly #sha256 = createHash('sha256');
  #bytes = 0;
  #head: Buffer = Buffer.alloc(0);
  #sniffed = false;
  #held: Buffer | undefined;
  #digest: IntegrityDigest | undefined;

  constructor(expectedSize: number) {
    super();
    this.#expectedSize = expectedSize;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#expectedSize) {
      callback(new ContentLengthMismatchError(this.#expectedSize, this.#bytes));
      return;
    }
    if (!this.#sniffed) {
      this.#head = Buffer.concat([this.#head, chunk]).subarray(0, SNIFF_BYTES);
      if (this.#head.length >= Math.min(SNIFF_BYTES, this.#expectedSize)) {
        this.#sniffed = true;
        if (looksLikeErrorPage(this.#head)) {
          callback(new UnexpectedResponseError('the CDN sent an error page instead of the file'));
          return;
        }
      }
    }
    this.#sha256.update(chunk);
    // Hold the newest chunk back so a short body fails before its final bytes reach the archive.
    const previous = this.#held;
    this.#held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#bytes !== this.#expectedSize) {
      callback(new ContentLengthMismatchError(this.#expectedSize, this.#bytes));
      return;
    }
    if (!this.#sniffed && this.#bytes > 0 && looksLikeErrorPage(this.#head)) {
      callback(new UnexpectedResponseError('the CDN sent an error page instead of the file'));
      return;
    }
    this.#digest = { bytes: this.#bytes, sha256: this.#sha256.digest('hex') };
    callback(null, this.#held);
  }

  /** The body's size and hashes; throws if the stream has not ended successfully. */
  digest(): IntegrityDigest {
    if (this.#digest === undefined) throw new Error('integrity digest read before the stream ended');
    return this.#digest;
  }
}
