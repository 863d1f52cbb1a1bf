/**
 * Signs S3 requests without hashing their payload (`x-amz-content-sha256: UNSIGNED-PAYLOAD`).
 *
 * SigV4 otherwise hashes every body it signs: a SHA-256 of every uploaded part, about a tenth of
 * an upload's CPU, which proves nothing TLS does not (the connection already authenticates and
 * integrity-protects the bytes in transit). The guarantees that matter are kept elsewhere: the
 * metered stream counts and hashes (MD5 + SHA-256) every byte before it leaves, and a single
 * PutObject carries `Content-MD5`, which S3 checks. Headers and query stay signed.
 *
 * A request that already names its payload hash keeps it (the flexible-checksum middleware's
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER` for aws-chunked bodies, a presigned URL's own rule).
 */
import type { S3Client } from '@aws-sdk/client-s3';

export const PAYLOAD_HASH_HEADER = 'x-amz-content-sha256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const MIDDLEWARE_NAME = 'icloudS3UnsignedPayload';

interface HeaderBag {
  readonly headers: Record<string, string>;
}

function hasHeaders(request: unknown): request is HeaderBag {
  return (
    typeof request === 'object' &&
    request !== null &&
    typeof (request as { headers?: unknown }).headers === 'object' &&
    (request as { headers?: unknown }).headers !== null
  );
}

/** Adds the middleware to `client` (once: adding it again replaces it). */
export function signWithUnsignedPayload(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const { request } = args;
      if (hasHeaders(request)) {
        const named = Object.keys(request.headers).some((h) => h.toLowerCase() === PAYLOAD_HASH_HEADER);
        if (!named) request.headers[PAYLOAD_HASH_HEADER] = UNSIGNED_PAYLOAD;
      }
      return next(args);
    },
    // After the build step's checksum middleware has chosen its framing, before signing.
    { step: 'build', priority: 'low', name: MIDDLEWARE_NAME, override: true },
  );
}
