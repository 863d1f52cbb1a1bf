/**
 * The local runtime's ports that open their adapter (start a server) on the first call that
 * needs it (compose/on-first-use.ts): opened once, shared by concurrent callers, never opened by
 * a question whose answer is known without it.
 */
import { describe, expect, it } from 'vitest';
import {
  deadLetterQueueOnFirstUse,
  objectStoreOnFirstUse,
  workQueueOnFirstUse,
} from '#compose/on-first-use.ts';
import { InMemoryDeadLetterQueue } from '#test/fakes/in-memory-dead-letter-queue.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';

function counted<T>(adapter: T) {
  const opens = { count: 0 };
  const open = async () => {
    opens.count++;
    return adapter;
  };
  return { opens, open };
}

describe('ports opened on first use', () => {
  it('opens nothing until a call, then once for every caller', async () => {
    const { opens, open } = counted(new InMemoryObjectStore());
    const store = objectStoreOnFirstUse(open);
    expect(opens.count).toBe(0);

    const heads = await Promise.all([store.head('a'), store.head('b'), store.delete('c')]);

    expect(heads).toEqual([undefined, undefined, undefined]);
    expect(opens.count).toBe(1);
  });

  it('lists through the opened store', async () => {
    const inner = new InMemoryObjectStore();
    const { opens, open } = counted(inner);
    const store = objectStoreOnFirstUse(open);
    const listed: string[] = [];

    for await (const object of store.list('')) listed.push(object.key);

    expect(listed).toEqual([]);
    expect(opens.count).toBe(1);
  });

  it('puts bytes through the opened store (the local runtime writes album views and the catalog so)', async () => {
    const inner = new InMemoryObjectStore();
    const { opens, open } = counted(inner);
    const store = objectStoreOnFirstUse(open);

    await store.putBytes('albums/Trip.json', Buffer.from('{}'), { contentType: 'application/json' });

    expect(inner.keys()).toEqual(['albums/Trip.json']);
    expect(opens.count).toBe(1);
  });

  it('opens the work queue with the first enqueue', async () => {
    const inner = new InMemoryWorkQueue();
    const { opens, open } = counted(inner);
    const queue = workQueueOnFirstUse(open);
    expect(opens.count).toBe(0);

    await queue.enqueue([]);

    expect(opens.count).toBe(1);
  });

  it('answers "no dead letters" without opening the queue while it has not started', async () => {
    const inner = new InMemoryDeadLetterQueue();
    inner.add('{}');
    const { opens, open } = counted(inner);
    let started = false;
    const deadLetters = deadLetterQueueOnFirstUse(open, () => started);

    expect(await deadLetters.pending()).toBe(0);
    expect(await deadLetters.take(10)).toEqual([]);
    await deadLetters.release([]);
    expect(opens.count).toBe(0);

    started = true;
    expect(await deadLetters.pending()).toBe(1);
    expect(opens.count).toBe(1);
  });
});
