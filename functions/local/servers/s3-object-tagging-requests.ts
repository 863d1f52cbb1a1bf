/**
 * The requests on an object's tag set, over the one tagging file the store writes with the object
 * (s3-object-tagging.ts): CreateMultipartUpload refuses a tag set S3 refuses before any part
 * (s3rver keeps its headers, `x-amz-tagging` with them, for the completion); GetObjectTagging
 * answers the file as it is (s3rver re-serialised it through a parser that reads `007` as 7 and
 * writes `&` unescaped); PutObjectTagging checks the set as S3 does and writes it atomically.
 */
import { readFile } from 'node:fs/promises';
import S3Error from 's3rver/lib/models/error.js';
import { writeFileAtomic } from './atomic-s3rver-store.ts';
import { taggingXml, tagsFromHeader, tagsFromXml } from './s3-object-tagging.ts';

/** What these controllers use of s3rver's (Koa) request context. */
export interface S3rverTaggingContext {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly params: { readonly bucket: string; readonly key: string };
  readonly req: AsyncIterable<Buffer>;
  readonly store: {
    existsObject(bucket: string, key: string): Promise<boolean>;
    getResourcePath(bucket: string, key: string, resource: string): string;
  };
  body: unknown;
  type: string;
}

export interface S3rverTaggingControllers {
  initiateMultipartUpload: (ctx: S3rverTaggingContext) => Promise<void>;
  getObjectTagging: (ctx: S3rverTaggingContext) => Promise<void>;
  putObjectTagging: (ctx: S3rverTaggingContext) => Promise<void>;
}

async function refuseMissingObject(ctx: S3rverTaggingContext): Promise<string> {
  const { bucket, key } = ctx.params;
  if (!(await ctx.store.existsObject(bucket, key)))
    throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
  return ctx.store.getResourcePath(bucket, key, 'tagging.xml');
}

/** Replaces or wraps s3rver's tagging controllers (see the module comment). */
export function keepObjectTags(objectController: S3rverTaggingControllers): void {
  const initiate = objectController.initiateMultipartUpload.bind(objectController);
  objectController.initiateMultipartUpload = async (ctx) => {
    tagsFromHeader(ctx.headers);
    await initiate(ctx);
  };
  objectController.getObjectTagging = async (ctx) => {
    const file = await refuseMissingObject(ctx);
    ctx.type = 'application/xml';
    ctx.body = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return taggingXml([]);
      throw error;
    });
  };
  objectController.putObjectTagging = async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const file = await refuseMissingObject(ctx);
    await writeFileAtomic(file, taggingXml(tagsFromXml(Buffer.concat(chunks).toString('utf8'))));
    ctx.body = '';
  };
}
