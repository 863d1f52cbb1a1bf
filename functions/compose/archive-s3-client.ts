/**
 * The archive's S3 client settings, alone in their module so a Lambda composition root can take
 * them without loading every AWS adapter (aws-adapters.ts builds them all, lib-storage included).
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * What the archive's S3 client sets beyond the SDK defaults: no flexible checksum (CRC32) on
 * requests that do not require one. Computed by the SDK right before sending, it would protect
 * only the leg TLS already protects, at the cost of a pass over every byte; the integrity of the
 * archived bytes is the metered stream's (size + MD5 + SHA-256) and `Content-MD5`'s.
 */
export const ARCHIVE_S3_CLIENT_CONFIG = {
  requestChecksumCalculation: 'WHEN_REQUIRED',
} as const satisfies S3ClientConfig;
