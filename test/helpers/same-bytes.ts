/**
 * Asserts two byte strings are equal with `Buffer.equals` (native, under a millisecond for a
 * 200 KB body). `toEqual` on a Buffer compares element by element in JavaScript: 18 s for 200 KB
 * on a loaded machine, the event loop blocked all along, so the next request goes out on a socket
 * the local S3 had closed as idle (5 s) and fails with `socket hang up` (docs/reliability.md).
 */
import { expect } from 'vitest';

export function expectSameBytes(actual: Buffer, expected: Buffer, what = 'bytes'): void {
  if (actual.equals(expected)) return;
  const at = actual.findIndex((byte, i) => byte !== expected[i]);
  expect.fail(
    `${what}: ${actual.length} bytes, expected ${expected.length}; first difference at ${at === -1 ? Math.min(actual.length, expected.length) : at}`,
  );
}
