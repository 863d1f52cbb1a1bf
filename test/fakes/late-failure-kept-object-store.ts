/**
 * The S3 store's multipart put failing after CompleteMultipartUpload where the worker's role may
 * not delete (the `keep` policy: the take-back answers 403), as functions/adapters/aws/s3-object-store.ts
 * leaves the key then. What stays current, by the failure it plays:
 *
 * - `staged`: the deadline or the transfer lease aborted the put, or its metadata copy failed.
 *   The upload's bytes, the metadata known up front only (no late metadata, no `md5chksum`), the
 *   upload's `<hex>-<parts>` ETag. The put rejects with an `AbortError`.
 * - `corrupt-unmarked`: S3 stored other bytes than were sent (`UploadDigestMismatchError`) and
 *   the copy was staged again (`unmark`): other bytes, the up-front metadata, their MD5 as ETag.
 * - `corrupt-kept`: as above, but `unmark` failed too: other bytes with the late metadata and the
 *   `md5chksum` of the bytes sent, their own MD5 as ETag.
 *
 * Each put of a key `failing` names fails so, `times` times in all; other puts store as usual.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { UploadDigestMismatchError } from '#domain/errors.ts';
import type { PutResult, PutStreamOptions } from '#ports/object-store.ts';
import { InMemoryObjectStore } from './in-memory-object-store.ts';

export type LeftBehind = 'staged' | 'corrupt-unmarked' | 'corrupt-kept';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

export class LateFailureKeptObjectStore extends InMemoryObjectStore {
  readonly #leave: LeftBehind;
  readonly #failing: (key: string) => boolean;
  #times: number;

  constructor(
    leave: LeftBehind,
    failing: (key: string) => boolean,
    options: { partSize?: number; now?: () => number; times?: number } = {},
  ) {
    super(options);
    this.#leave = leave;
    this.#failing = failing;
    this.#times = options.times ?? 1;
  }

  override async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult> {
    if (this.#times === 0 || !this.#failing(key)) return super.putStream(key, body, options);
    if (options.contentLength <= this.partSize)
      throw new RangeError('only a multipart put fails after completion: send more than one part');
    this.#times--;
    const put = await super.putStream(key, body, options);
    const sent = this.objects.get(key);
    if (sent === undefined) throw new Error(`${key} was not stored`);
    const parts = Math.ceil(sent.data.length / this.partSize);
    if (this.#leave === 'staged') {
      this.objects.set(key, {
        ...sent,
        etag: `${md5(sent.data)}-${parts}`,
        metadata: { ...options.metadata },
      });
      throw Object.assign(new Error('upload aborted'), { name: 'AbortError' });
    }
    const stored = Buffer.from(sent.data);
    const middle = stored.length >> 1;
    stored[middle] = (stored[middle] ?? 0) ^ 0xff;
    // `unmark` puts the up-front metadata back; when it failed, the copy's stays.
    const metadata = this.#leave === 'corrupt-unmarked' ? { ...options.metadata } : sent.metadata;
    this.objects.set(key, { ...sent, data: stored, etag: md5(stored), metadata });
    throw new UploadDigestMismatchError(put.md5, md5(stored));
  }
}
