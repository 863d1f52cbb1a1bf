/**
 * Amazon S3's check of a body against the additional checksum its request declares in a plain
 * header (`x-amz-checksum-crc32`, `-crc32c`, `-sha1`, `-sha256`; PutObject, UploadPart), which
 * s3rver 3.x skips. As S3: a value that is not the base64 of a checksum of that algorithm's size
 * is refused before the body is read (`400 InvalidRequest`, "Value for <header> header is
 * invalid."), as is a request declaring more than one; a body whose checksum differs is refused
 * once read (`400 BadDigest`, "The <ALGORITHM> you specified did not match the calculated
 * checksum.") and nothing of it is stored. Checksums sent as aws-chunked trailers are not read
 * (the local runtime's clients send none: `requestChecksumCalculation: 'WHEN_REQUIRED'`), nor is
 * `x-amz-checksum-crc64nvme`.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import S3Error from 's3rver/lib/models/error.js';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256';

/** Each algorithm's checksum size in bytes. */
const CHECKSUM_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  SHA1: 20,
  SHA256: 32,
};

const ALGORITHMS = Object.keys(CHECKSUM_BYTES) as ChecksumAlgorithm[];

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface DeclaredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly value: Buffer;
}

function invalidRequest(message: string): Error {
  return new S3Error('InvalidRequest', message);
}

/**
 * The checksum `headers` declare for the body, or undefined when they declare none. Throws
 * s3rver's `InvalidRequest` S3Error for a malformed value or more than one checksum header.
 */
export function declaredChecksum(
  headers: Readonly<Record<string, unknown>> | undefined,
): DeclaredChecksum | undefined {
  let declared: DeclaredChecksum | undefined;
  for (const algorithm of ALGORITHMS) {
    const name = `x-amz-checksum-${algorithm.toLowerCase()}`;
    const header = headers?.[name];
    if (header === undefined) continue;
    if (declared !== undefined)
      throw invalidRequest(
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      );
    const value =
      typeof header === 'string' && BASE64.test(header) ? Buffer.from(header, 'base64') : undefined;
    if (value?.length !== CHECKSUM_BYTES[algorithm])
      throw invalidRequest(`Value for ${name} header is invalid.`);
    declared = { algorithm, value };
  }
  return declared;
}

/** A running checksum of a body. */
export interface Checksum {
  update(chunk: Buffer): void;
  digest(): Buffer;
}

/** Reflected CRC lookup table for `polynomial` (reversed form). */
function crcTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ polynomial : crc >>> 1;
    table[byte] = crc >>> 0;
  }
  return table;
}

/** CRC-32C (Castagnoli), which Node has no native form of. */
const CRC32C_TABLE = crcTable(0x82f63b78);

function crc32c(): Checksum {
  const table = CRC32C_TABLE;
  let crc = 0xffffffff;
  return {
    update(chunk) {
      for (let at = 0; at < chunk.length; at++) crc = table[(crc ^ chunk[at]!) & 0xff]! ^ (crc >>> 8);
    },
    digest() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
      return out;
    },
  };
}

/** CRC-32 by zlib's native code: the archive's parts under Object Lock carry one (8 MiB each). */
function nativeCrc32(): Checksum {
  let crc = 0;
  return {
    update(chunk) {
      crc = crc32(chunk, crc);
    },
    digest() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc >>> 0);
      return out;
    },
  };
}

/** A running checksum of `algorithm`, its digest the bytes S3 base64-encodes in the header. */
export function checksumOf(algorithm: ChecksumAlgorithm): Checksum {
  if (algorithm === 'CRC32') return nativeCrc32();
  if (algorithm === 'CRC32C') return crc32c();
  const hash = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
  return { update: (chunk) => hash.update(chunk), digest: () => hash.digest() };
}

/** Throws s3rver's `BadDigest` S3Error when the body's checksum is not the one declared. */
export function refuseMismatchedChecksum(
  declared: DeclaredChecksum | undefined,
  computed: Buffer | undefined,
): void {
  if (declared === undefined || (computed !== undefined && declared.value.equals(computed))) return;
  throw new S3Error(
    'BadDigest',
    `The ${declared.algorithm} you specified did not match the calculated checksum.`,
  );
}
