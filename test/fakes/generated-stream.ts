/**
 * Deterministic byte streams for upload tests: produced on demand (pull), so a consumer that
 * buffers shows up as a producer running far ahead of what the server has acknowledged.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** The byte at position `i` of every generated stream (cheap, not constant, not periodic in 64 KiB). */
function fill(chunk: Buffer, offset: number): void {
  for (let i = 0; i < chunk.length; i += 1) chunk[i] = ((offset + i) * 2654435761) >>> 24;
}

export interface GeneratedStream {
  readonly stream: Readable;
  /** Bytes handed to the consumer so far. */
  produced(): number;
}

/**
 * `size` bytes in `chunkSize` pieces. With `stallAfter`, the stream stops producing after that
 * many bytes and never ends (an Apple CDN connection that hangs).
 */
export function generatedStream(
  size: number,
  options: { chunkSize?: number; stallAfter?: number } = {},
): GeneratedStream {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  let offset = 0;
  const stream = new Readable({
    highWaterMark: chunkSize,
    read() {
      if (options.stallAfter !== undefined && offset >= options.stallAfter) return;
      if (offset >= size) {
        this.push(null);
        return;
      }
      const chunk = Buffer.allocUnsafe(Math.min(chunkSize, size - offset));
      fill(chunk, offset);
      offset += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, produced: () => offset };
}

/** The hex digest of what `generatedStream(size)` produces, computed without holding it. */
export function generatedDigest(size: number, algorithm: 'md5' | 'sha256'): string {
  const hash = createHash(algorithm);
  const chunk = Buffer.allocUnsafe(64 * 1024);
  for (let offset = 0; offset < size; offset += chunk.length) {
    const piece = chunk.subarray(0, Math.min(chunk.length, size - offset));
    fill(piece, offset);
    hash.update(piece);
  }
  return hash.digest('hex');
}

/** Reads a stream to its end and returns its bytes. */
export async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
