/**
 * Work s3rver does for every request that the local runtime has no use for, taken out of the
 * s3rver child's one JavaScript thread (a catalog fold sends it hundreds of small PUTs at once):
 *
 * - its request log (koa-logger), which formats and colours a line per request even when s3rver
 *   is silent and its logger drops every line;
 * - reading the bucket's CORS and website configuration from disk for every request (two
 *   failing reads when, as here, the bucket has none): they are remembered until a request
 *   changes one of them or the bucket (this child is the only writer of its directory).
 */

/** The name koa-logger gives its middleware. */
const REQUEST_LOG = 'logger';

/** Takes s3rver's request log out of its middleware list; true when it was there. */
export function dropRequestLog(middleware: Array<{ readonly name?: string }>): boolean {
  const at = middleware.findIndex((m) => m.name === REQUEST_LOG);
  if (at < 0) return false;
  middleware.splice(at, 1);
  return true;
}

/** The part of s3rver's FilesystemStore that keeps bucket configurations. */
export interface S3rverConfigStore {
  getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  putSubresource(bucket: string, key: string | undefined, resource: unknown): Promise<void>;
  deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<void>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
}

/**
 * Remembers each bucket configuration `store` reads (a missing one included). Whatever writes a
 * configuration or a bucket forgets them all, before and after it runs, so a read that overlaps
 * the write is not remembered past it.
 */
export function rememberBucketConfigs(store: S3rverConfigStore): void {
  const known = new Map<string, Promise<unknown>>();
  let generation = 0;
  const read = store.getSubresource.bind(store);
  store.getSubresource = (bucket, key, type) => {
    if (key !== undefined) return read(bucket, key, type);
    const id = `${bucket}\n${type}`;
    const remembered = known.get(id);
    if (remembered !== undefined) return remembered;
    const started = generation;
    const reading = read(bucket, key, type);
    known.set(id, reading);
    const forget = () => {
      if (known.get(id) === reading) known.delete(id);
    };
    reading.then(() => {
      if (generation !== started) forget();
    }, forget);
    return reading;
  };
  const forgetting =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      generation++;
      known.clear();
      try {
        return await write(...args);
      } finally {
        generation++;
        known.clear();
      }
    };
  store.putSubresource = forgetting(store.putSubresource.bind(store));
  store.deleteSubresource = forgetting(store.deleteSubresource.bind(store));
  store.putBucket = forgetting(store.putBucket.bind(store));
  store.deleteBucket = forgetting(store.deleteBucket.bind(store));
}
