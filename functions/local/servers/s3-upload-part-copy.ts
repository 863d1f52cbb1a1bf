/**
 * UploadPartCopy as Amazon S3 answers it, which s3rver 3.x refuses (`501 NotImplemented` for a
 * part request with `x-amz-copy-source`): `PUT /<bucket>/<key>?partNumber=N&uploadId=U` with
 * `x-amz-copy-source` stores the source object's bytes, or the range
 * `x-amz-copy-source-range: bytes=first-last` of them (zero-based, inclusive), as part N of the
 * upload, and answers `<CopyPartResult><ETag/><LastModified/></CopyPartResult>`. The archive uses
 * it to give a video over 5 GiB its final metadata (s3-multipart-copy.ts).
 *
 * As S3 (API_UploadPartCopy.html): the source's conditions (`x-amz-copy-source-if-match`, ...)
 * are CopyObject's, `412 PreconditionFailed` when one does not hold (s3-copy-object.ts); a part
 * number outside 1-10,000 is `400 InvalidArgument`, an upload that does not exist `404
 * NoSuchUpload`, a source that does not `404 NoSuchKey` (its bucket `NoSuchBucket`). The part's
 * ETag is the MD5 of the bytes copied, as an uploaded part's (s3-etags.ts), so a completion lists
 * and checks it the same way. A range that is not `bytes=first-last` is `400 InvalidArgument`,
 * one outside the source `400 InvalidArgument` naming its size (the message S3 sends, as
 * reported by its users; not checked here against S3). Not modelled: S3 copies a range only of a
 * source larger than 5 MB (its answer to a smaller one is not documented), and the version
 * (`?versionId=`) of the source: the current one is copied; Object Lock's digest rule (the
 * request has no body). Cost here: the range is read, hashed and written (fsynced) as a part, and
 * the completion writes the parts once more as the object: a video over 5 GiB is written twice.
 */
import S3Error from 's3rver/lib/models/error.js';
import { refuseInvalidPartNumber } from './s3-complete-multipart.ts';
import {
  copySourceOf,
  header,
  refuseFailedCopyConditions,
  type S3rverCopyContext,
} from './s3-copy-object.ts';

/** Copies a range of an object into an upload's part (atomic-s3rver-store.ts). */
export type CopyPart = (
  bucket: string,
  uploadId: string,
  partNumber: number,
  source: { readonly bucket: string; readonly key: string },
  /** Checks the source's conditions and names the range, once its object file is open. */
  checked: () => Promise<{ readonly first: number; readonly last: number }>,
) => Promise<{ md5: string; lastModified: Date }>;

/** The range `x-amz-copy-source-range` names of a source of `size` bytes (the whole without one). */
export function copySourceRange(
  value: string | undefined,
  size: number,
): { readonly first: number; readonly last: number } {
  if (value === undefined) return { first: 0, last: size - 1 };
  const match = /^bytes=([0-9]+)-([0-9]+)$/.exec(value.trim());
  if (match === null)
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: value },
    );
  const first = Number(match[1]);
  const last = Number(match[2]);
  if (first > last || last >= size)
    throw new S3Error('InvalidArgument', `Range specified is not valid for source object of size: ${size}`, {
      ArgumentName: 'x-amz-copy-source-range',
      ArgumentValue: value,
    });
  return { first, last };
}

/** What the middleware uses of s3rver's (Koa) context. */
export interface S3rverPartCopyContext {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, unknown>>;
  readonly headers: S3rverCopyContext['headers'];
  readonly store: Pick<S3rverCopyContext['store'], 'getBucket' | 'existsObject' | 'getMetadata'>;
  body: unknown;
}

/** `/<bucket>/<key>` of a path-style request, decoded; undefined for a bucket alone. */
function objectOf(path: string): { bucket: string; key: string } | undefined {
  const [, bucket = '', ...key] = path.split('/');
  if (bucket === '' || key.length === 0 || key.join('/') === '') return undefined;
  return { bucket: decodeURIComponent(bucket), key: key.map(decodeURIComponent).join('/') };
}

/**
 * A Koa middleware, placed before s3rver's router, that answers UploadPartCopy and passes every
 * other request on. Its errors are s3rver's S3Errors: s3rver's error handler writes S3's XML.
 */
export function uploadPartCopy(copyPart: CopyPart) {
  return async (ctx: S3rverPartCopyContext, next: () => Promise<void>): Promise<void> => {
    const uploadId = ctx.query.uploadId;
    const object = objectOf(ctx.path);
    if (
      ctx.method !== 'PUT' ||
      typeof uploadId !== 'string' ||
      ctx.query.partNumber === undefined ||
      header(ctx.headers, 'x-amz-copy-source') === undefined ||
      object === undefined
    )
      return next();
    const partNumber = String(ctx.query.partNumber);
    refuseInvalidPartNumber(partNumber);
    const source = copySourceOf(header(ctx.headers, 'x-amz-copy-source') ?? '');
    if ((await ctx.store.getBucket(source.bucket)) == null)
      throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: source.bucket });
    if (!(await ctx.store.existsObject(source.bucket, source.key)))
      throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: source.key });
    // The conditions and the range are checked on the version whose bytes are copied (copyPart
    // opens the object before it calls this).
    const checked = async () => {
      const stored = await ctx.store.getMetadata(source.bucket, source.key);
      refuseFailedCopyConditions(
        ctx.headers,
        { etag: String(stored.etag), lastModified: new Date(String(stored['last-modified'])) },
        new Date(),
      );
      return copySourceRange(
        header(ctx.headers, 'x-amz-copy-source-range'),
        Number(stored['content-length']),
      );
    };
    const copied = await copyPart(object.bucket, uploadId, Number(partNumber), source, checked);
    ctx.body = {
      CopyPartResult: { ETag: JSON.stringify(copied.md5), LastModified: copied.lastModified.toISOString() },
    };
  };
}
