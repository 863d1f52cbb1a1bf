import { describe, expect, it } from 'vitest';
import { EnqueueError } from '#domain/errors.ts';
import {
  describeWorkQueueContract,
  membership,
  workMessage,
} from '#test/fakes/contracts/work-queue-contract.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { PartialFailureWorkQueue } from '#test/fakes/partial-failure-work-queue.ts';

describeWorkQueueContract('InMemoryWorkQueue', async ({ maxMessageBytes }) => {
  const queue = new InMemoryWorkQueue({ maxMessageBytes });
  return { queue, drain: async () => queue.receive(Number.MAX_SAFE_INTEGER).map((w) => w.message) };
});

describe('PartialFailureWorkQueue', () => {
  it('stores the first messages, then fails the enqueue', async () => {
    const queue = new PartialFailureWorkQueue({ storeFirst: 1, failures: 1 });
    const messages = [workMessage([membership(1)]), workMessage([membership(2)])];
    await expect(queue.enqueue(messages)).rejects.toBeInstanceOf(EnqueueError);
    expect(queue.peek()).toHaveLength(1);
    await queue.enqueue(messages);
    expect(queue.peek()).toHaveLength(3);
  });
});
