/**
 * CopyObject as Amazon S3 answers it, replacing s3rver's controller, which ignored two things the
 * product relies on:
 *
 * - Its conditions on the source, `x-amz-copy-source-if-match`, `-if-none-match`,
 *   `-if-modified-since`, `-if-unmodified-since`: one that does not hold is `412
 *   PreconditionFailed` and nothing is copied. As S3 documents their precedence, an if-match that
 *   holds makes S3 copy whatever if-unmodified-since says, an if-none-match that fails refuses
 *   whatever if-modified-since says (and one that holds decides); a date S3 cannot read, or an
 *   if-modified-since later than now, is ignored (as HTTP's If-Modified-Since). The product's
 *   metadata copy names the ETag its upload completed with, so it never copies another writer's
 *   newer bytes (s3-object-store.ts).
 * - `TaggingDirective`: COPY (the default) gives the copy the source's tags, REPLACE the
 *   request's `x-amz-tagging` (none without one); s3-object-tagging.ts.
 *
 * The rest is s3rver's: a copy onto itself must REPLACE the metadata; the answer's ETag and
 * LastModified are the copy's. The copy source is URL-decoded whole, as S3 does (s3rver's
 * `decodeURI` left `%26`, `%2B`, ... encoded, naming another key).
 */
import S3Error from 's3rver/lib/models/error.js';
import { type TagSet, tagsFromHeader } from './s3-object-tagging.ts';

/** What the copy controller uses of s3rver's (Koa) request context. */
export interface S3rverCopyContext {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly params: { readonly bucket: string; readonly key: string };
  readonly store: {
    getBucket(bucket: string): Promise<object | null>;
    existsObject(bucket: string, key: string): Promise<boolean>;
    getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
    copyObject(
      srcBucket: string,
      srcKey: string,
      destBucket: string,
      destKey: string,
      replacementMetadata: Readonly<Record<string, unknown>> | null,
      tags?: TagSet,
    ): Promise<Record<string, unknown>>;
  };
  body: unknown;
}

/** The source as S3 reads `x-amz-copy-source`: `[/]bucket/key[?versionId=...]`, URL-encoded. */
export function copySourceOf(header: string): { bucket: string; key: string } {
  const path = header.replace(/^\//, '').replace(/\?versionId=[^&]*$/, '');
  const slash = path.indexOf('/');
  try {
    if (slash < 1) throw new URIError('no key');
    return {
      bucket: decodeURIComponent(path.slice(0, slash)),
      key: decodeURIComponent(path.slice(slash + 1)),
    };
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source object key', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: header,
    });
  }
}

/** The source object as the conditions see it. */
export interface CopySourceState {
  /** Its ETag, with or without the quotes. */
  readonly etag: string;
  readonly lastModified: Date;
}

const unquoted = (etag: string) => etag.trim().replace(/^"|"$/g, '');

/** Whether a condition's ETag list (`"a", "b"`, or `*`) names `etag`. */
export function namesEtag(list: string, etag: string): boolean {
  return list.split(',').some((listed) => unquoted(listed) === '*' || unquoted(listed) === unquoted(etag));
}

function readDate(header: string | undefined): Date | undefined {
  if (header === undefined) return undefined;
  const time = Date.parse(header);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** S3's `412 PreconditionFailed`, naming the condition that did not hold. */
export function preconditionFailed(condition: string): Error {
  return new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
    Condition: condition,
  });
}

/** A request header as one string (a repeated one joined with commas, as HTTP reads it). */
export function header(headers: S3rverCopyContext['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Throws S3's `412 PreconditionFailed` when the request's conditions on `source` do not hold. */
export function refuseFailedCopyConditions(
  headers: S3rverCopyContext['headers'],
  source: CopySourceState,
  now: Date,
): void {
  // S3 compares at the second its Last-Modified shows.
  const modified = Math.floor(source.lastModified.getTime() / 1000) * 1000;
  const ifMatch = header(headers, 'x-amz-copy-source-if-match');
  const unmodifiedSince = readDate(header(headers, 'x-amz-copy-source-if-unmodified-since'));
  if (ifMatch !== undefined) {
    if (!namesEtag(ifMatch, source.etag)) throw preconditionFailed('x-amz-copy-source-If-Match');
  } else if (unmodifiedSince !== undefined && modified > unmodifiedSince.getTime())
    throw preconditionFailed('x-amz-copy-source-If-Unmodified-Since');
  const ifNoneMatch = header(headers, 'x-amz-copy-source-if-none-match');
  const modifiedSince = readDate(header(headers, 'x-amz-copy-source-if-modified-since'));
  if (ifNoneMatch !== undefined) {
    if (namesEtag(ifNoneMatch, source.etag)) throw preconditionFailed('x-amz-copy-source-If-None-Match');
  } else if (
    modifiedSince !== undefined &&
    modifiedSince.getTime() <= now.getTime() &&
    modified <= modifiedSince.getTime()
  )
    throw preconditionFailed('x-amz-copy-source-If-Modified-Since');
}

/** The copy's tags: undefined for the source's (COPY), else the request's. */
function copiedTags(headers: S3rverCopyContext['headers']): TagSet | undefined {
  const directive = header(headers, 'x-amz-tagging-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw new S3Error('InvalidArgument', 'Unknown tagging directive.', {
      ArgumentName: 'x-amz-tagging-directive',
      ArgumentValue: directive,
    });
  return directive === 'COPY' ? undefined : (tagsFromHeader(headers) ?? []);
}

/** Replaces s3rver's `putObjectCopy` with `copyObject` (see the module comment). */
export function checkCopyObject(objectController: {
  putObjectCopy: (ctx: S3rverCopyContext) => Promise<void>;
}): void {
  objectController.putObjectCopy = async (ctx) => {
    const source = copySourceOf(header(ctx.headers, 'x-amz-copy-source') ?? '');
    const { bucket, key } = ctx.params;
    const tags = copiedTags(ctx.headers);
    if ((await ctx.store.getBucket(source.bucket)) == null)
      throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: source.bucket });
    if (!(await ctx.store.existsObject(source.bucket, source.key)))
      throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: source.key });
    const stored = await ctx.store.getMetadata(source.bucket, source.key);
    refuseFailedCopyConditions(
      ctx.headers,
      { etag: String(stored.etag), lastModified: new Date(String(stored['last-modified'])) },
      new Date(),
    );
    const replaceMetadata = header(ctx.headers, 'x-amz-metadata-directive') === 'REPLACE';
    if (source.bucket === bucket && source.key === key && !replaceMetadata)
      throw new S3Error(
        'InvalidRequest',
        'This copy request is illegal because it is trying to copy an object ' +
          "to itself without changing the object's metadata, storage class, " +
          'website redirect location or encryption attributes.',
      );
    const metadata = await ctx.store.copyObject(
      source.bucket,
      source.key,
      bucket,
      key,
      replaceMetadata ? ctx.headers : null,
      tags,
    );
    ctx.body = {
      CopyObjectResult: {
        LastModified: new Date(String(metadata['last-modified'])).toISOString(),
        ETag: metadata.etag,
      },
    };
  };
}
