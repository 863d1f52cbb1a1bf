/**
 * Whether an object already at a key is a whole archive copy whose hashes the put verified, so a
 * retry may adopt it instead of downloading again. A put that failed late can leave another
 * object current where the worker may not delete it (`keep`): the staged version of a multipart
 * upload (the metadata known up front, no late metadata), or a copy of other bytes than were sent,
 * staged again or, if that failed too, keeping the streamed `md5chksum` (docs/state.md, "The
 * archive objects"). Neither may be adopted.
 */
import type { ObjectHead } from '../../ports/object-store.ts';
import { etagCanBeMd5, isMd5Etag, md5ChksumToHex } from '../verify/object-md5.ts';

/** Late metadata key holding the SHA-256 of the bytes, so a re-run can adopt an object without re-reading it. */
export const SHA256_METADATA_KEY = 'icloud-sha256';

/** The hashes a verified copy states (lower-case hex). */
export interface VerifiedCopy {
  readonly sha256: string;
  readonly md5: string;
}

/**
 * The object's ETag is S3's MD5 of its bytes: a 32-hex ETag (not a multipart `<hex>-<parts>`) of an
 * object under SSE-S3 or no encryption. Under SSE-KMS, DSSE-KMS or SSE-C it is not.
 */
function etagIsMd5(head: ObjectHead): boolean {
  return etagCanBeMd5(head.encryption) && isMd5Etag(head.etag);
}

/**
 * The copy's hashes when it is whole and verified: `expectedSize` bytes (when it is known), the
 * late SHA-256 and an MD5 (`md5chksum`, or an ETag that is one); and, when both MD5s are there,
 * they agree (an ETag that disagrees with `md5chksum` is S3's MD5 of other bytes than the put
 * hashed: a corrupt copy). Undefined otherwise: the caller downloads again, its put supersedes it.
 */
export function verifiedCopy(head: ObjectHead, expectedSize: number | undefined): VerifiedCopy | undefined {
  if (expectedSize !== undefined && head.size !== expectedSize) return undefined;
  const sha256 = head.metadata[SHA256_METADATA_KEY];
  if (sha256 === undefined) return undefined;
  const stated = head.md5Base64 === undefined ? undefined : md5ChksumToHex(head.md5Base64);
  const etag = etagIsMd5(head) ? head.etag : undefined;
  if (stated !== undefined && etag !== undefined && stated !== etag) return undefined;
  const md5 = stated ?? etag;
  return md5 === undefined ? undefined : { sha256, md5 };
}
