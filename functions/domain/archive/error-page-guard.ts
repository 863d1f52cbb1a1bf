/**
 * The check a downloaded body passes before it reaches the archive: it refuses a body that is an
 * error page instead of media. Counting and hashing are the object store's (one pass, see
 * `ObjectStore.putStream`); this stream only looks at the first bytes and never holds more than
 * one chunk.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { UnexpectedResponseError } from '../errors.ts';

/** How error pages begin (docs/protocol/cdn.md#ranges): HTML, or Apple's JSON error bodies. Compared case-insensitively. */
const ERROR_PAGE_PREFIXES = ['<html', '<!doctype', '{"error"', '{"errors"', '{"message"', '{"code"', '{}'];
const SNIFF_BYTES = 16;

/** True when the first bytes of a body look like an error page rather than media. */
export function looksLikeErrorPage(head: Buffer): boolean {
  const text = head.subarray(0, SNIFF_BYTES).toString('latin1').trimStart().toLowerCase();
  return ERROR_PAGE_PREFIXES.some((prefix) => text.startsWith(prefix));
}

/**
 * A pass-through stream that fails when the body (of `expectedSize` bytes, as CloudKit reported)
 * starts like an error page. Nothing passes downstream until the first bytes have been judged.
 */
export class ErrorPageGuard extends Transform {
  readonly #expectedSize: number;
  #head: Buffer = Buffer.alloc(0);
  #sniffed = false;
  #pending: Buffer[] = [];

  constructor(expectedSize: number) {
    super();
    this.#expectedSize = expectedSize;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#sniffed) {
      callback(null, chunk);
      return;
    }
    this.#head = Buffer.concat([this.#head, chunk]).subarray(0, SNIFF_BYTES);
    this.#pending.push(chunk);
    if (this.#head.length < Math.min(SNIFF_BYTES, this.#expectedSize)) {
      callback();
      return;
    }
    this.#sniffed = true;
    if (looksLikeErrorPage(this.#head)) {
      callback(new UnexpectedResponseError('the CDN sent an error page instead of the file'));
      return;
    }
    this.#release();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#sniffed && this.#head.length > 0 && looksLikeErrorPage(this.#head)) {
      callback(new UnexpectedResponseError('the CDN sent an error page instead of the file'));
      return;
    }
    this.#release();
    callback();
  }

  #release(): void {
    for (const chunk of this.#pending) this.push(chunk);
    this.#pending = [];
  }
}
