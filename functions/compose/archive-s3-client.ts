/**
 * The archive's S3 client settings, alone in their module so a Lambda composition root can take
 * them without loading every AWS adapter (aws-adapters.ts builds them all, lib-storage included).
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * What the archive's S3 client sets beyond the SDK defaults, in Lambda, in the local runtime and in
 * the CLI's client of a deployed archive (`openAwsArchive`):
 *
 * - No flexible checksum (CRC32) on requests that do not require one. Computed by the SDK right
 *   before sending, it would protect only the leg TLS already protects, at the cost of a pass over
 *   every byte; the integrity of the archived bytes is the metered stream's (size + MD5 + SHA-256)
 *   and `Content-MD5`'s.
 * - No `Expect: 100-continue`. The SDK adds it to every body of 2 MiB or more (most photos, every
 *   8 MiB part of a video), and its Node handler sends such a request on an agent made for that
 *   one request, without keep-alive: a new TCP connection and a full TLS handshake (no session to
 *   resume) per photo or part, then a round trip waiting for `100 Continue`. Without the header
 *   S3 reads a body before it can refuse the request, so a refused part (a bad signature, a
 *   throttle, a wrong region) costs its upload; refusals are rare and retried anyway, handshakes
 *   are on every part. docs/benchmarks.md, "Connections of the archive's uploads".
 */
export const ARCHIVE_S3_CLIENT_CONFIG = {
  requestChecksumCalculation: 'WHEN_REQUIRED',
  expectContinueHeader: false,
} as const satisfies S3ClientConfig;
