/**
 * Seekable deterministic filler: the AES-128-CTR keystream of a key derived from the media seed.
 * CTR mode lets any offset be produced without the bytes before it (the counter block is
 * `offset / 16`), and OpenSSL generates it at several GB/s, so filler never limits a download.
 */
import { createCipheriv, createHash } from 'node:crypto';

const ZEROS = Buffer.alloc(1024 * 1024 + 16);

/** The 16-byte AES key for a seed. */
export function keystreamKey(seed: string): Buffer {
  return createHash('sha256').update(`icloud-s3-simulator:media:${seed}`).digest().subarray(0, 16);
}

/** `length` keystream bytes starting at `offset` (a fresh Buffer the caller may keep). */
export function keystream(key: Buffer, offset: number, length: number): Buffer {
  if (length <= 0) return Buffer.alloc(0);
  const block = Math.floor(offset / 16);
  const skip = offset % 16;
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(Math.floor(block / 2 ** 32), 8);
  iv.writeUInt32BE(block % 2 ** 32, 12);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const parts: Buffer[] = [];
  let remaining = length + skip;
  while (remaining > 0) {
    const n = Math.min(remaining, ZEROS.length);
    parts.push(cipher.update(ZEROS.subarray(0, n)));
    remaining -= n;
  }
  const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return skip === 0 ? out : out.subarray(skip);
}
