/** `Range` header semantics for one resource (RFC 9110 §14, single ranges only). */

export type RangeDecision =
  /** No usable range: serve the whole file with 200. */
  | { readonly kind: 'full' }
  /** Serve bytes `start..end` (inclusive) with 206. */
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  /** 416 with `Content-Range: bytes *\/size`. */
  | { readonly kind: 'unsatisfiable' };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/**
 * Decides how to answer `header` for a file of `size` bytes. Syntactically invalid and
 * multi-range headers are ignored (a server may always answer 200); a first byte past the end, or
 * an empty suffix, is unsatisfiable; a last byte past the end is clamped.
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const match = SINGLE.exec(header.trim());
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: 'unsatisfiable' };
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', start, end };
}
