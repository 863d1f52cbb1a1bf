/**
 * DeleteObject's `If-Match` as Amazon S3 answers it (S3 user guide, "How to perform conditional
 * deletes"), which s3rver ignored: the request deletes only when the key's current object has the
 * ETag it names (or any, with `*`); another ETag is `412 PreconditionFailed` and the object stays.
 * A key with no object is `404 NoSuchKey` under `If-Match`: S3's guide says so of a key deleted
 * while the request ran, and it is what an unconditional delete's 204 would hide (our reading:
 * the guide gives no status for a key that never had one). Without the header s3rver's delete is
 * unchanged (204 whatever was there).
 *
 * The archive adapter's take-back after a late failure names the ETag its upload completed with,
 * so it never removes another writer's object (s3-object-store.ts).
 */
import S3Error from 's3rver/lib/models/error.js';
import { header, namesEtag, preconditionFailed } from './s3-copy-object.ts';

/** What the delete controller uses of s3rver's (Koa) request context. */
export interface S3rverDeleteContext {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly params: { readonly bucket: string; readonly key: string };
  readonly store: {
    existsObject(bucket: string, key: string): Promise<boolean>;
    getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  };
}

/** Puts the `If-Match` check in front of s3rver's `deleteObject`. */
export function checkDeleteObject(objectController: {
  deleteObject: (ctx: S3rverDeleteContext) => Promise<void>;
}): void {
  const deleteObject = objectController.deleteObject;
  objectController.deleteObject = async (ctx) => {
    const ifMatch = header(ctx.headers, 'if-match');
    if (ifMatch !== undefined) {
      const { bucket, key } = ctx.params;
      if (!(await ctx.store.existsObject(bucket, key)))
        throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
      const stored = await ctx.store.getMetadata(bucket, key);
      if (!namesEtag(ifMatch, String(stored.etag))) throw preconditionFailed('If-Match');
    }
    return deleteObject(ctx);
  };
}
