/**
 * An in-memory object store that answers the first `throttledPuts` puts with S3's `SlowDown`
 * (503), after draining and discarding the body as S3 would have read it. Plays a bucket
 * prefix under request-rate pressure; later puts succeed.
 */
import type { Readable } from 'node:stream';
import type { PutBytesOptions, PutResult, PutStreamOptions } from '#ports/object-store.ts';
import { InMemoryObjectStore } from './in-memory-object-store.ts';

export function slowDownError(): Error {
  return Object.assign(new Error('Please reduce your request rate.'), {
    name: 'SlowDown',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
  });
}

export class ThrottlingObjectStore extends InMemoryObjectStore {
  private throttledLeft: number;
  puts = 0;

  constructor(options: { throttledPuts: number; partSize?: number }) {
    super(options.partSize === undefined ? {} : { partSize: options.partSize });
    this.throttledLeft = options.throttledPuts;
  }

  override async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult> {
    if (this.throttled()) {
      body.resume();
      body.destroy();
      throw slowDownError();
    }
    return super.putStream(key, body, options);
  }

  override async putBytes(key: string, body: Uint8Array, options: PutBytesOptions): Promise<PutResult> {
    if (this.throttled()) throw slowDownError();
    return super.putBytes(key, body, options);
  }

  private throttled(): boolean {
    this.puts += 1;
    if (this.throttledLeft <= 0) return false;
    this.throttledLeft -= 1;
    return true;
  }
}
