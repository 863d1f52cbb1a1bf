/**
 * S3 user metadata as rclone reads it (docs/rclone.md): `mtime` is Unix seconds as a fixed-point
 * decimal (no exponent, trailing zeros dropped; written by the domain, `domain/plan/object-metadata.ts`,
 * and only read back here), `md5chksum` the base64 of the raw MD5.
 * Keys are lower-case because S3 lower-cases them on the way back anyway.
 */
import { InvalidInputError } from '../../domain/errors.ts';
import type { ObjectMetadata } from '../../ports/object-store.ts';

export const MTIME_KEY = 'mtime';
export const MD5_KEY = 'md5chksum';

/** S3's limit on user metadata (keys plus values, in bytes). */
const MAX_METADATA_BYTES = 2048;
const KEY_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
const VALUE_PATTERN = /^[\x20-\x7e]*$/;

/** Parses rclone's `mtime` to ms (sub-millisecond digits are truncated); undefined if unparsable. */
export function parseRcloneMtime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(-?)(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (!match) return undefined;
  const [, sign, whole, fraction = ''] = match;
  const ms = Number(whole) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3));
  if (!Number.isSafeInteger(ms)) return undefined;
  return sign === '-' ? -ms : ms;
}

/** Hex MD5 -> the base64 form rclone stores in `md5chksum`. */
export function md5HexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/** Checks keys and values S3 would mangle (upper case, non-ASCII) and the 2 KB total. */
export function assertValidMetadata(metadata: ObjectMetadata): void {
  let bytes = 0;
  for (const [key, value] of Object.entries(metadata)) {
    if (!KEY_PATTERN.test(key))
      throw new InvalidInputError(`metadata key ${JSON.stringify(key)} is not [a-z0-9-]`);
    if (!VALUE_PATTERN.test(value)) {
      throw new InvalidInputError(`metadata ${key} must be printable US-ASCII`);
    }
    bytes += key.length + value.length;
  }
  if (bytes > MAX_METADATA_BYTES) throw new InvalidInputError(`metadata is ${bytes} bytes, S3 allows 2048`);
}
