/**
 * S3's limit on a key: at most 1,024 bytes of UTF-8, the prefix and its delimiters included
 * ("Naming Amazon S3 objects", https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
 * A write to a longer key is refused with `400 KeyTooLongError`, "Your key is too long", the
 * body naming the key's `Size` and the `MaxSizeAllowed`. s3rver stores any key its file system
 * takes; the local S3 refuses what S3 refuses (writes only: PutObject, CreateMultipartUpload,
 * a CopyObject's destination, the requests that would create such a key).
 */

/** Most UTF-8 bytes of a key. */
export const MAX_KEY_BYTES = 1024;

/** The error body for a write to `key`, or undefined when S3 takes the key. */
export function keyTooLongError(key: string): string | undefined {
  const size = Buffer.byteLength(key, 'utf8');
  if (size <= MAX_KEY_BYTES) return undefined;
  return `<Error><Code>KeyTooLongError</Code><Message>Your key is too long</Message><Size>${size}</Size><MaxSizeAllowed>${MAX_KEY_BYTES}</MaxSizeAllowed></Error>`;
}
