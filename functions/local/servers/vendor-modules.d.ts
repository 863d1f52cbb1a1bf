/** The local emulators ship without type declarations; these cover what we use of them. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }
  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}

declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface S3rverOptions {
    directory: string;
    silent?: boolean;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
  }
  class S3rver {
    constructor(options: S3rverOptions);
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    /** Koa's middleware list (S3rver is a Koa app), composed by `callback()`. */
    readonly middleware: Array<{ readonly name?: string }>;
    readonly store: {
      getResourcePath(bucket: string, key: string | undefined, resource: string): string;
      /** The bucket, or null when there is none. */
      getBucket(bucket: string): Promise<object | null>;
      /** Makes the bucket's directory if missing (`mkdirp`). */
      putBucket(bucket: string): Promise<unknown>;
    };
  }
  export default S3rver;
}

/** s3rver's error type: its error middleware answers one with `status` and the S3 XML error body. */
declare module 's3rver/lib/models/error.js' {
  class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
    readonly code: string;
    readonly status: number;
    readonly detail: Record<string, string>;
  }
  export default S3Error;
}

/** s3rver's object model: picks the metadata S3 keeps (a content type by default) from headers. */
declare module 's3rver/lib/models/object.js' {
  import type { Readable } from 'node:stream';

  class S3Object {
    constructor(bucket: string, key: string, content: Readable, metadata: Record<string, string>);
    readonly bucket: string;
    readonly key: string;
    readonly content: Readable;
    readonly metadata: Record<string, string>;
  }
  export default S3Object;
}

/** s3rver's object controllers: its router calls them through this module object at each request. */
declare module 's3rver/lib/controllers/object.js' {
  const objectController: {
    completeMultipartUpload: (
      ctx: import('./s3-complete-multipart.ts').CompleteMultipartContext,
    ) => Promise<void>;
  };
  export default objectController;
}

/** s3rver's bucket controllers: its router calls them through this module object at each request. */
declare module 's3rver/lib/controllers/bucket.js' {
  const bucketController: Record<string, unknown>;
  export default bucketController;
}
