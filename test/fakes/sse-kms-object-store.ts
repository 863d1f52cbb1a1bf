/**
 * An in-memory object store whose bucket encrypts with SSE-KMS, as S3 answers for it: every
 * object's ETag is 32 hex characters that are not the MD5 of its bytes (S3 API reference,
 * `Object.ETag`), and its head says `ServerSideEncryption: aws:kms`. The `md5chksum` metadata
 * the store writes stays the true MD5, as on S3. Counts the heads it answers.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type {
  ListedObject,
  ObjectHead,
  PutBytesOptions,
  PutResult,
  PutStreamOptions,
} from '#ports/object-store.ts';
import { InMemoryObjectStore } from './in-memory-object-store.ts';

export class SseKmsObjectStore extends InMemoryObjectStore {
  private readonly kmsEtags = new Map<string, string>();
  heads = 0;

  override async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult> {
    return this.encrypted(await super.putStream(key, body, options));
  }

  override async putBytes(key: string, body: Uint8Array, options: PutBytesOptions): Promise<PutResult> {
    return this.encrypted(await super.putBytes(key, body, options));
  }

  override async head(key: string): Promise<ObjectHead | undefined> {
    this.heads++;
    const head = await super.head(key);
    return head === undefined ? undefined : this.headOf(head);
  }

  override async *list(prefix: string): AsyncIterable<ListedObject> {
    for await (const object of super.list(prefix)) yield { ...object, etag: this.etagOf(object.key) };
  }

  override async getStream(key: string) {
    const read = await super.getStream(key);
    return read === undefined ? undefined : { head: this.headOf(read.head), body: read.body };
  }

  private encrypted(put: PutResult): PutResult {
    const etag = randomBytes(16).toString('hex');
    this.kmsEtags.set(put.key, etag);
    return { ...put, etag };
  }

  private etagOf(key: string): string {
    return this.kmsEtags.get(key) ?? '';
  }

  private headOf(head: ObjectHead): ObjectHead {
    return { ...head, etag: this.etagOf(head.key), encryption: 'sse-kms' };
  }
}
