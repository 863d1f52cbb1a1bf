/**
 * An `ObjectStore` (S3) in front of which the Lambda process dies at a scheduled call: before a
 * put started, after the object became durable (and before the manifest says so), or part-way
 * through the upload (`midStream`: an unfinished multipart upload, which must leave no object).
 * Any put still in flight when the invocation dies is aborted, as a killed process never
 * completes its multipart upload.
 *
 * A put of bytes in memory is one request whose body the dying process was still sending at
 * `midStream`: S3 never completes a PUT shorter than its Content-Length, so nothing is stored
 * (as a streamed body cut part-way).
 *
 * Puts are counted by what they write, so a crash point names the write it means: a photo's
 * object (`objects.putStream`), a catalog journal or shard (`catalog.put`), an album view
 * (`views.put`) or a Shared Album's item or view (`shared.putStream`).
 */
import type { Readable } from 'node:stream';
import type {
  ListedObject,
  MetadataAdded,
  MetadataAddition,
  ObjectHead,
  ObjectStore,
  PutBytesOptions,
  PutResult,
  PutStreamOptions,
} from '#ports/object-store.ts';
import { type CrashSchedule, crashAfterBytes } from './crashing-invocation.ts';

/** The crash label of a put, by the kind of object it writes. */
export function putLabel(key: string): string {
  if (key.startsWith('catalog/')) return 'catalog.put';
  if (key.startsWith('albums/')) return 'views.put';
  if (key.startsWith('shared-albums/')) return 'shared.putStream';
  return 'objects.putStream';
}

export class CrashingObjectStore implements ObjectStore {
  readonly #inner: ObjectStore;
  readonly #schedule: CrashSchedule;
  /** Puts of photos' objects started (counted whether or not they completed); derived objects apart. */
  puts = 0;

  constructor(inner: ObjectStore, schedule: CrashSchedule) {
    this.#inner = inner;
    this.#schedule = schedule;
  }

  head(key: string): Promise<ObjectHead | undefined> {
    return this.#schedule.around('objects.head', () => this.#inner.head(key));
  }

  async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult> {
    const invocation = this.#schedule.current;
    const step = this.#schedule.next(putLabel(key));
    if (step.point?.when === 'before') {
      body.destroy();
      throw this.#schedule.crash(`${step.label} before`);
    }
    if (step.label.startsWith('objects.putStream')) this.puts += 1;
    const signal = options.signal ? AbortSignal.any([options.signal, invocation.signal]) : invocation.signal;
    let source: Readable = body;
    if (step.point?.when === 'midStream') {
      const cut = crashAfterBytes(
        this.#schedule,
        `${step.label} midStream`,
        Math.floor(options.contentLength * (step.point.fraction ?? 0.5)),
      );
      body.on('error', (error) => cut.destroy(error));
      source = body.pipe(cut);
    }
    let result: PutResult;
    try {
      result = await this.#inner.putStream(key, source, { ...options, signal });
    } catch (error) {
      // The put failed before its crash (a body shorter than announced, a refused put): nothing
      // was stored to die after, or the body broke before the cut. The crash moves on.
      if (step.point !== undefined && !invocation.dead) {
        if (step.point.when === 'midStream') this.#schedule.carry(step.point, putLabel(key));
        else this.#schedule.carryPastFailure(step.point, putLabel(key));
      }
      throw error;
    }
    if (invocation.dead) throw invocation.kill(step.label);
    if (step.point !== undefined) throw this.#schedule.crash(`${step.label} after`);
    return result;
  }

  async putBytes(key: string, body: Uint8Array, options: PutBytesOptions): Promise<PutResult> {
    const invocation = this.#schedule.current;
    const step = this.#schedule.next(putLabel(key));
    if (step.point?.when === 'before') throw this.#schedule.crash(`${step.label} before`);
    if (step.label.startsWith('objects.putStream')) this.puts += 1;
    if (step.point?.when === 'midStream') throw this.#schedule.crash(`${step.label} midStream`);
    const signal = options.signal ? AbortSignal.any([options.signal, invocation.signal]) : invocation.signal;
    let result: PutResult;
    try {
      result = await this.#inner.putBytes(key, body, { ...options, signal });
    } catch (error) {
      if (step.point !== undefined && !invocation.dead)
        this.#schedule.carryPastFailure(step.point, putLabel(key));
      throw error;
    }
    if (invocation.dead) throw invocation.kill(step.label);
    if (step.point !== undefined) throw this.#schedule.crash(`${step.label} after`);
    return result;
  }

  delete(key: string): Promise<void> {
    return this.#schedule.around('objects.delete', () => this.#inner.delete(key));
  }

  addMetadata(key: string, addition: MetadataAddition): Promise<MetadataAdded> {
    return this.#schedule.around('objects.addMetadata', () => this.#inner.addMetadata(key, addition));
  }

  /** One request (S3's DeleteObjects): a crash before it deletes none of the keys, after it all. */
  deleteMany(keys: readonly string[]): Promise<void> {
    return this.#schedule.around('objects.deleteMany', () => this.#inner.deleteMany(keys));
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    const all = await this.#schedule.around('objects.list', async () => {
      const listed: ListedObject[] = [];
      for await (const object of this.#inner.list(prefix)) listed.push(object);
      return listed;
    });
    yield* all;
  }

  getStream(key: string) {
    return this.#schedule.around('objects.getStream', () => this.#inner.getStream(key));
  }
}
