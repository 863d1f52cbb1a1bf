/**
 * Ports whose adapter is built (its server started, its SDK package imported) by the first call
 * that needs it, for the one-machine runtime: a sync that finds nothing new never starts the
 * local S3 or SQS, and loads none of their client code (issue 12: an idle run in under 2 s).
 * Every call waits for the same opening; a failed opening fails that call and every later one.
 */
import type { DeadLetterQueue } from '#ports/dead-letter-queue.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { WorkQueue } from '#ports/work-queue.ts';

/** `open()` once, on the first call of the returned function; the same promise after that. */
export function once<T>(open: () => Promise<T>): { (): Promise<T>; readonly opened: () => boolean } {
  let opening: Promise<T> | undefined;
  return Object.assign(() => (opening ??= open()), { opened: () => opening !== undefined });
}

export function objectStoreOnFirstUse(open: () => Promise<ObjectStore>): ObjectStore {
  const store = once(open);
  return {
    head: async (key) => (await store()).head(key),
    putStream: async (key, body, options) => (await store()).putStream(key, body, options),
    putBytes: async (key, body, options) => (await store()).putBytes(key, body, options),
    delete: async (key) => (await store()).delete(key),
    async *list(prefix) {
      yield* (await store()).list(prefix);
    },
    getStream: async (key) => (await store()).getStream(key),
    deleteMany: async (keys) => (await store()).deleteMany(keys),
    addMetadata: async (key, addition) => (await store()).addMetadata(key, addition),
  };
}

export function workQueueOnFirstUse(open: () => Promise<WorkQueue>): WorkQueue {
  const queue = once(open);
  return { enqueue: async (messages) => (await queue()).enqueue(messages) };
}

/**
 * A dead-letter queue that is known to be empty until `started()` (the local SQS lives in memory:
 * before anything put work on it, it holds none), so asking costs no server.
 */
export function deadLetterQueueOnFirstUse(
  open: () => Promise<DeadLetterQueue>,
  started: () => boolean,
): DeadLetterQueue {
  const queue = once(open);
  return {
    pending: async () => (started() ? (await queue()).pending() : 0),
    take: async (max) => (started() ? (await queue()).take(max) : []),
    redrive: async (letter, at) => (await queue()).redrive(letter, at),
    remove: async (letter) => (await queue()).remove(letter),
    release: async (letters) => {
      if (letters.length > 0) await (await queue()).release(letters);
    },
  };
}
