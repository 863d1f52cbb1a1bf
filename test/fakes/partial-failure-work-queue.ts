/**
 * A work queue that stores only the first `storeFirst` messages of an enqueue and then fails,
 * as SqsWorkQueue does when SQS keeps refusing entries: plays "enqueue failed halfway".
 * After `failures` failing calls it behaves normally again.
 */
import { EnqueueError } from '#domain/errors.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { EnqueueReceipt } from '#ports/work-queue.ts';
import { InMemoryWorkQueue } from './in-memory-work-queue.ts';

export class PartialFailureWorkQueue extends InMemoryWorkQueue {
  private failuresLeft: number;
  private readonly storeFirst: number;
  calls = 0;

  constructor(options: { storeFirst: number; failures?: number; maxMessageBytes?: number }) {
    super(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes });
    this.storeFirst = options.storeFirst;
    this.failuresLeft = options.failures ?? Number.POSITIVE_INFINITY;
  }

  override async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    this.calls += 1;
    if (this.failuresLeft <= 0) return super.enqueue(messages);
    this.failuresLeft -= 1;
    const pieces = this.split(messages);
    this.store(pieces.slice(0, this.storeFirst));
    const notStored = Math.max(0, pieces.length - this.storeFirst);
    throw new EnqueueError(`${notStored} of ${pieces.length} work messages were not stored`, notStored);
  }
}
