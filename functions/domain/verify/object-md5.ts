/**
 * The MD5 an S3 object states about its bytes without being downloaded, by rclone's rules
 * (docs/rclone.md): a 32-hex ETag is the MD5 of a single-part upload; a multipart ETag
 * (`<hex>-<parts>`) is not, and then the `md5chksum` metadata (base64 of the raw digest) is.
 * Under SSE-KMS, DSSE-KMS or SSE-C no ETag is an MD5, though it has the same 32 hex characters:
 * only the object's head tells (its encryption), and then only `md5chksum` counts.
 */
import type { ObjectEncryption } from '#ports/object-store.ts';

/** Where a stated MD5 came from. */
export type Md5Source = 'etag' | 'md5chksum';

export interface StatedMd5 {
  /** Lower-case hex. */
  readonly md5: string;
  readonly source: Md5Source;
}

const MD5_HEX = /^[0-9a-f]{32}$/;

/** True for an ETag that is the MD5 of the object (a single-part upload without SSE-KMS). */
export function isMd5Etag(etag: string): boolean {
  return MD5_HEX.test(etag);
}

/** Hex of a base64 `md5chksum`, or undefined when it is not 16 bytes of base64. */
export function md5ChksumToHex(value: string): string | undefined {
  if (!/^[A-Za-z0-9+/]{22}==$/.test(value)) return undefined;
  return Buffer.from(value, 'base64').toString('hex');
}

/** False under an encryption whose ETags are not MD5s; true under SSE-S3, or when the head said none. */
export function etagCanBeMd5(encryption: ObjectEncryption | undefined): boolean {
  return encryption === undefined || encryption === 'sse-s3';
}

/**
 * Whether the object's head must be read to learn its MD5: its ETag is not one, `etagsAreMd5` is
 * false (`--sse-kms`), or it disagrees with the MD5 the manifest recorded (`recordedMd5`): before
 * that is called a mismatch, the head says whether the ETag is an MD5 at all (an SSE-KMS object's
 * is not). An intact SSE-S3 archive needs no head.
 */
export function needsHeadForMd5(etag: string, etagsAreMd5: boolean, recordedMd5?: string): boolean {
  return !etagsAreMd5 || !isMd5Etag(etag) || (recordedMd5 !== undefined && etag !== recordedMd5);
}

/**
 * The MD5 the object states: its ETag when that is an MD5, `etagsAreMd5` and its head (when read)
 * names no encryption that makes ETags something else; else its `md5chksum`; undefined when
 * neither tells (a multipart object without `md5chksum`, or a head that was not read).
 */
export function statedMd5(
  object: {
    readonly etag: string;
    readonly md5Base64?: string | undefined;
    readonly encryption?: ObjectEncryption | undefined;
  },
  etagsAreMd5: boolean,
): StatedMd5 | undefined {
  if (etagsAreMd5 && isMd5Etag(object.etag) && etagCanBeMd5(object.encryption))
    return { md5: object.etag, source: 'etag' };
  const fromMetadata = object.md5Base64 === undefined ? undefined : md5ChksumToHex(object.md5Base64);
  return fromMetadata === undefined ? undefined : { md5: fromMetadata, source: 'md5chksum' };
}
