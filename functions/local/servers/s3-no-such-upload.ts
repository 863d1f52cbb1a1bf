/**
 * S3's answer to a part for an upload that does not exist (never created, aborted, completed):
 * `404 NoSuchUpload`, as s3rver's own S3Error so its error handler writes S3's XML.
 */
import S3Error from 's3rver/lib/models/error.js';

export function noSuchUpload(uploadId: string): Error {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
}
