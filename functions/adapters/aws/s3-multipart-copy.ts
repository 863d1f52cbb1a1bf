/**
 * A same-key rewrite of an object too large for one CopyObject (over 5 GiB): a multipart upload
 * whose parts are server-side copies of the object's byte ranges (UploadPartCopy), so the new
 * version gets its final metadata and no tags without the bytes passing through the worker.
 *
 * S3's limits, as documented: a CopyObject copies at most 5 GB; larger objects are copied with
 * the multipart upload API, each part by UploadPartCopy (AmazonS3/latest/userguide/
 * CopyingObjctsMPUapi.html); a multipart upload has at most 10,000 parts of 5 MiB to 5 GiB, the
 * last one smaller (AmazonS3/latest/userguide/qfacts.html); UploadPartCopy takes its range as
 * `x-amz-copy-source-range: bytes=first-last`, zero-based and inclusive, and copies a range only
 * of a source larger than 5 MB (API_UploadPartCopy.html, `CopySourceRange`). It has no body and
 * S3 refuses a `Content-MD5` on it (awslabs/aws-c-s3#173); that a bucket with Object Lock takes
 * it without a digest is not documented (not checked against S3). Each part copy is
 * conditioned on the ETag of the version the caller made (`CopySourceIfMatch`): when another
 * writer's version became current meanwhile, S3 answers 412 and nothing of theirs is copied over.
 *
 * What a failure leaves: the copy's multipart upload is aborted (best effort, without the
 * caller's signal, which may be what failed it), so no parts linger; the source is untouched.
 * What it costs: one CreateMultipartUpload, one UploadPartCopy per `partBytes` (a 10 GiB video:
 * 20 at 512 MiB) and one CompleteMultipartUpload, all PUT-class requests; no bytes through the
 * worker. The new version's ETag is a multipart one (`-N`), not an MD5: unlike a single copy's,
 * it checks nothing end to end (docs/integrity.md).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { ObjectMetadata } from '../../ports/object-store.ts';
import { mapAtMost } from '../../shared/map-at-most.ts';
import { MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE } from './multipart-shape.ts';

export interface MultipartCopy {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** The class the copy is written in (else STANDARD, whatever the source's). */
  readonly storageClass?: 'INTELLIGENT_TIERING';
  /** `CopySource` of the key itself, as the caller encodes it. */
  readonly copySource: string;
  /** The ETag (unquoted) the source must still have: every part copy is conditioned on it. */
  readonly etag: string;
  readonly size: number;
  readonly contentType: string;
  readonly metadata: ObjectMetadata;
  /** Bytes per part copy (raised if the object would need more than 10,000 parts). */
  readonly partBytes: number;
  /** Part copies at once. */
  readonly concurrency: number;
  readonly signal?: AbortSignal | undefined;
}

/** The byte ranges `[first, last]` (inclusive) of the parts, in order. */
export function copyRanges(size: number, partBytes: number): Array<readonly [number, number]> {
  const wanted = Math.max(partBytes, Math.ceil(size / MAX_PARTS));
  const step = Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, wanted));
  const ranges: Array<readonly [number, number]> = [];
  for (let first = 0; first < size; first += step) ranges.push([first, Math.min(size, first + step) - 1]);
  return ranges;
}

/**
 * Rewrites `key` onto itself with `metadata`, `contentType` and no tags, in part copies; resolves
 * with the new version's ETag (unquoted) and version id. Rejects with the first part's failure
 * (a 412 when the source is no longer `etag`), having aborted the copy's upload.
 */
export async function copyInParts(copy: MultipartCopy): Promise<{ etag: string; versionId?: string }> {
  const { client, bucket, key } = copy;
  const sending = copy.signal ? { abortSignal: copy.signal } : {};
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: copy.contentType,
      Metadata: { ...copy.metadata },
      ...(copy.storageClass === undefined ? {} : { StorageClass: copy.storageClass }),
    }),
    sending,
  );
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new Error('CreateMultipartUpload answered no UploadId');
  try {
    const etags = await copyParts(copy, uploadId);
    const completed = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, at) => ({ ETag, PartNumber: at + 1 })) },
      }),
      sending,
    );
    return {
      etag: (completed.ETag ?? '').replace(/^"|"$/g, ''),
      ...(completed.VersionId === undefined ? {} : { versionId: completed.VersionId }),
    };
  } catch (error) {
    // Without the caller's signal: an abort is often why the copy failed. Once completed, an
    // abort is answered 204 or 404 and changes nothing.
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
    throw error;
  }
}

/**
 * The part ETags, `concurrency` copies at once (`mapAtMost`); the first failure starts no further
 * copy and aborts those under way, so the copy fails at once with it.
 */
async function copyParts(copy: MultipartCopy, uploadId: string): Promise<string[]> {
  const stop = new AbortController();
  const signal = copy.signal ? AbortSignal.any([copy.signal, stop.signal]) : stop.signal;
  const ranges = copyRanges(copy.size, copy.partBytes).map((range, at) => ({ range, partNumber: at + 1 }));
  return mapAtMost(ranges, copy.concurrency, async ({ range: [first, last], partNumber }) => {
    try {
      const copied = await copy.client.send(
        new UploadPartCopyCommand({
          Bucket: copy.bucket,
          Key: copy.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: copy.copySource,
          CopySourceIfMatch: `"${copy.etag}"`,
          CopySourceRange: `bytes=${first}-${last}`,
        }),
        { abortSignal: signal },
      );
      const etag = copied.CopyPartResult?.ETag;
      if (etag === undefined) throw new Error(`UploadPartCopy answered no ETag for part ${partNumber}`);
      return etag;
    } catch (error) {
      // The first failure is the copy's (mapAtMost keeps it); the aborted copies' are its echoes.
      stop.abort();
      throw error;
    }
  });
}
