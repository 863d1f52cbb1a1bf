/**
 * S3 user metadata as rclone reads it (peers.md §5): `mtime` is Unix seconds as a fixed-point
 * decimal (no exponent, trailing zeros dropped), `md5chksum` the base64 of the raw MD5.
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

/** Range where rclone can represent the time (Go's int64 nanoseconds: years 1678-2262). */
const MAX_RCLONE_MS = 9_223_372_036_854;

/**
 * `1717243200500` ms -> `"1717243200.5"`. Exact: milliseconds need no float arithmetic.
 * Undefined for a time that is not whole milliseconds or that rclone cannot represent (an
 * invalid capture time such as 8640000000000001): no mtime rather than a nonsense one, and
 * rclone then shows the upload time.
 */
export function formatRcloneMtime(ms: number): string | undefined {
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_RCLONE_MS) return undefined;
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const seconds = Math.floor(abs / 1000);
  const fraction = String(abs % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return fraction === '' ? `${sign}${seconds}` : `${sign}${seconds}.${fraction}`;
}

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
