/**
 * MD5 + SHA-256 of a body held whole, computed on a worker thread instead of the event loop.
 *
 * The local runtime runs every download, upload, local DynamoDB and SQS server on one event loop,
 * and that loop is what limits a first sync (docs/benchmarks.md §0): hashing every byte of a
 * 1.6 MB photo took a fifth of it. A single put reads its body whole anyway (at most one part,
 * s3-object-store.ts), so the body is read into a buffer over a `SharedArrayBuffer` and one
 * message hands it to the worker without a copy; the loop goes on serving the other transfers
 * while the worker hashes. The same bytes are hashed, the same two hashes come back: nothing about
 * what is checked changes, only which thread checks it.
 *
 * One worker per digester, started at the first digest (an idle run starts none) and unref'd
 * whenever no digest is pending, so it never keeps the process alive. If the worker fails (it
 * could not start, it died), the digests it owed and every later one are computed inline: the
 * same hashes, on the event loop.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** Hashes and the thread that computed them (0 is the main thread). */
export interface WholeBodyDigest {
  /** Lower-case hex. */
  readonly md5: string;
  /** Lower-case hex. */
  readonly sha256: string;
  readonly threadId: number;
}

/** Bodies below this are hashed inline: a round trip to the worker costs more than they do. */
export const DEFAULT_OFF_THREAD_MIN_BYTES = 256 * 1024;

// CommonJS evaluated by the worker (`eval: true`): no file of its own, so it runs the same from
// source, from dist/ and from a bundle.
const WORKER_SOURCE = `
const { parentPort, threadId } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ id, buffer, offset, length }) => {
  const bytes = new Uint8Array(buffer, offset, length);
  parentPort.postMessage({
    id,
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    threadId,
  });
});
`;

interface Pending {
  readonly bytes: Uint8Array;
  readonly resolve: (digest: WholeBodyDigest) => void;
}

function inlineDigest(bytes: Uint8Array): WholeBodyDigest {
  return {
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    threadId: 0,
  };
}

export class OffThreadDigester {
  readonly minBytes: number;
  #worker: Worker | undefined;
  #failed = false;
  #nextId = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(options: { readonly minBytes?: number } = {}) {
    this.minBytes = options.minBytes ?? DEFAULT_OFF_THREAD_MIN_BYTES;
  }

  /** A zero-filled buffer of `length` bytes the worker can read without a copy. */
  allocate(length: number): Buffer {
    return Buffer.from(new SharedArrayBuffer(length));
  }

  /** MD5 and SHA-256 of `bytes`, which must not change until this settles. */
  digest(bytes: Uint8Array): Promise<WholeBodyDigest> {
    const worker = this.#workerOrUndefined();
    if (worker === undefined) return Promise.resolve(inlineDigest(bytes));
    return new Promise((resolve) => {
      const id = this.#nextId++;
      this.#pending.set(id, { bytes, resolve });
      if (this.#pending.size === 1) worker.ref();
      // An ordinary ArrayBuffer is copied by the message; a SharedArrayBuffer is shared.
      worker.postMessage({ id, buffer: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength });
    });
  }

  #workerOrUndefined(): Worker | undefined {
    if (this.#failed) return undefined;
    if (this.#worker !== undefined) return this.#worker;
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true });
    } catch {
      this.#failed = true;
      return undefined;
    }
    worker.on('message', (answer: { id: number; md5: string; sha256: string; threadId: number }) => {
      const pending = this.#pending.get(answer.id);
      if (pending === undefined) return;
      this.#pending.delete(answer.id);
      if (this.#pending.size === 0) worker.unref();
      pending.resolve({ md5: answer.md5, sha256: answer.sha256, threadId: answer.threadId });
    });
    const fail = () => {
      if (this.#failed) return;
      this.#failed = true;
      this.#worker = undefined;
      const owed = [...this.#pending.values()];
      this.#pending.clear();
      for (const { bytes, resolve } of owed) resolve(inlineDigest(bytes));
      void worker.terminate();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}
