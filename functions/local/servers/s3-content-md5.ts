/**
 * Amazon S3's check of a body against the `Content-MD5` its request declares (PutObject,
 * UploadPart), which s3rver 3.x skips: a header that is not the base64 of 16 bytes is refused
 * before the body is read (`400 InvalidDigest`), a body whose MD5 differs is refused once read
 * (`400 BadDigest`) and nothing of it is stored. The error bodies carry what S3's do: the
 * header as sent for InvalidDigest; for BadDigest the expected digest in hex and the one
 * computed in base64. The MD5 itself is the one the atomic store computes while writing
 * (`atomic-s3rver-store.ts`): the check is one decode and one 16-byte compare per request.
 */
import S3Error from 's3rver/lib/models/error.js';

/** The base64 of 16 bytes: 22 characters and the padding. */
const MD5_BASE64 = /^[A-Za-z0-9+/]{22}==$/;

/**
 * The MD5 `headers` declare for the body, or undefined when they declare none.
 * Throws s3rver's `InvalidDigest` S3Error when the header is there but is no base64 MD5.
 */
export function declaredMd5(headers: Readonly<Record<string, unknown>> | undefined): Buffer | undefined {
  const header = headers?.['content-md5'];
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !MD5_BASE64.test(header))
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.', {
      'Content-MD5': String(header),
    });
  return Buffer.from(header, 'base64');
}

/** Throws s3rver's `BadDigest` S3Error when the body's MD5 is not the one declared. */
export function refuseMismatchedBody(declared: Buffer | undefined, computed: Buffer): void {
  if (declared === undefined || declared.equals(computed)) return;
  throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
    ExpectedDigest: declared.toString('hex'),
    CalculatedDigest: computed.toString('base64'),
  });
}
