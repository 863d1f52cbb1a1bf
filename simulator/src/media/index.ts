/**
 * The media the simulated CDN serves: valid files of the declared type, exactly `spec.size` bytes,
 * deterministic from `spec.seed`, generated on the fly. Nothing is stored and nothing grows with the
 * file's size: headers and index atoms are built per request (kilobytes), the rest is computed per
 * chunk for any offset, so a range at the end of a multi-GB movie starts instantly.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { MediaSpec } from '../types.ts';
import { layoutOf } from './formats.ts';
import { layoutSize, streamLayout } from './layout.ts';

export { KNOWN_UTIS } from './formats.ts';

/** A byte range, both ends inclusive (as in HTTP `Range` and `fs.createReadStream`). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The file `spec` describes, or bytes `range.start..range.end` (inclusive) of it.
 * Throws `RangeError` for a negative or non-integer size, or a range outside `0..size-1`.
 */
export function openMedia(spec: MediaSpec, range?: ByteRange): Readable {
  if (!Number.isSafeInteger(spec.size) || spec.size < 0)
    throw new RangeError(`invalid media size ${spec.size}`);
  const start = range?.start ?? 0;
  const end = range?.end ?? spec.size - 1;
  if (
    range &&
    (!Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end < start ||
      end >= spec.size)
  ) {
    throw new RangeError(`range ${start}-${end} outside a ${spec.size}-byte file`);
  }
  const layout = layoutOf(spec);
  if (layoutSize(layout) !== spec.size) {
    throw new Error(`media layout for ${spec.uti} is ${layoutSize(layout)} bytes, not ${spec.size}`);
  }
  return streamLayout(layout, start, end);
}

/** Lower-case hex SHA-256 of the whole file, computed by streaming it (never buffered). */
export async function mediaSha256(spec: MediaSpec): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of openMedia(spec)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
