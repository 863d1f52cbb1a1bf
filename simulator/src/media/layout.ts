/**
 * A media file as three regions: a small `head` and `tail` built eagerly (headers, metadata, index
 * atoms) and a `body` of any length whose bytes are computed on demand for any offset. Reading a
 * range touches only the regions it overlaps, so a range at the end of a multi-GB file costs the
 * same as one at the start, and memory never grows with the file.
 */
import { Readable } from 'node:stream';
import { keystream, keystreamKey } from './keystream.ts';

/** Bytes computed on demand: `read(offset, length)` returns exactly those bytes of the region. */
export interface Body {
  readonly length: number;
  read(offset: number, length: number): Buffer;
}

export interface Layout {
  readonly head: Buffer;
  readonly body: Body;
  readonly tail: Buffer;
}

export const EMPTY_BODY: Body = { length: 0, read: () => Buffer.alloc(0) };

/** A body of seeded bytes (e.g. an `mdat` payload or RAW strip data). */
export function seededBody(seed: string, length: number): Body {
  const key = keystreamKey(seed);
  return { length, read: (offset, n) => keystream(key, offset, n) };
}

/** The bytes of `parts` concatenated and cut to `size` (the "too small for this format" case). */
export function truncatedLayout(size: number, ...parts: Buffer[]): Layout {
  return { head: Buffer.concat(parts).subarray(0, size), body: EMPTY_BODY, tail: Buffer.alloc(0) };
}

export const layoutSize = (layout: Layout): number =>
  layout.head.length + layout.body.length + layout.tail.length;

/**
 * A body made of consecutive records (container segments or chunks), split as evenly as possible
 * into records of at most `maxRecord` and at least `minRecord` bytes. `render(index, size, offset)`
 * returns record `index`, exactly `size` bytes, which starts at `offset` within the body.
 * Requires `length === 0 || length >= minRecord`.
 */
export function recordBody(
  length: number,
  maxRecord: number,
  minRecord: number,
  render: (index: number, size: number, offset: number) => Buffer,
): Body {
  if (length > 0 && length < minRecord) throw new RangeError(`record body of ${length} < ${minRecord} bytes`);
  const count = length === 0 ? 0 : Math.ceil(length / maxRecord);
  const small = count === 0 ? 0 : Math.floor(length / count);
  // The first `bigCount` records are one byte longer than the rest.
  const bigCount = length - small * count;
  const bigSpan = bigCount * (small + 1);
  const locate = (offset: number): { index: number; start: number; size: number } => {
    if (offset < bigSpan) {
      const index = Math.floor(offset / (small + 1));
      return { index, start: index * (small + 1), size: small + 1 };
    }
    const index = bigCount + Math.floor((offset - bigSpan) / small);
    return { index, start: bigSpan + (index - bigCount) * small, size: small };
  };
  return {
    length,
    read(offset, n) {
      const out = Buffer.allocUnsafe(n);
      let written = 0;
      while (written < n) {
        const at = offset + written;
        const record = locate(at);
        const bytes = render(record.index, record.size, record.start);
        written += bytes.copy(
          out,
          written,
          at - record.start,
          Math.min(record.size, at - record.start + n - written),
        );
      }
      return out;
    },
  };
}

/** Largest chunk a media stream pushes at once. */
export const CHUNK_SIZE = 256 * 1024;

/** Reads `length` bytes at `offset` of the whole file, crossing region boundaries as needed. */
export function readLayout(layout: Layout, offset: number, length: number): Buffer {
  const { head, body, tail } = layout;
  const bodyEnd = head.length + body.length;
  const end = offset + length;
  const pieces: Buffer[] = [];
  if (offset < head.length) pieces.push(head.subarray(offset, Math.min(end, head.length)));
  if (end > head.length && offset < bodyEnd) {
    const from = Math.max(offset, head.length) - head.length;
    pieces.push(body.read(from, Math.min(end, bodyEnd) - head.length - from));
  }
  if (end > bodyEnd) pieces.push(tail.subarray(Math.max(offset, bodyEnd) - bodyEnd, end - bodyEnd));
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/** A stream of bytes `start..end` (inclusive) of the layout, produced chunk by chunk on demand. */
export function streamLayout(layout: Layout, start: number, end: number): Readable {
  let position = start;
  const last = end + 1;
  return new Readable({
    highWaterMark: CHUNK_SIZE,
    read() {
      if (position >= last) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK_SIZE, last - position);
      const chunk = readLayout(layout, position, n);
      position += n;
      this.push(chunk);
      if (position >= last) this.push(null);
    },
  });
}
