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
