/**
 * `WorkQueue` in memory with SQS's observable behaviour for the producer: the same size-based
 * splitting and deterministic work ids as `SqsWorkQueue`, messages kept in send order until a
 * consumer takes them. `receive`/`acknowledge` play the consumer side for handler tests.
 */

import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import {
  MAX_MESSAGE_BYTES,
  type SerialisedWork,
  splitWorkMessage,
} from '#adapters/aws/work-message-split.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';

export interface QueuedWork {
  readonly workId: string;
  readonly body: string;
  readonly message: WorkMessage;
}

export class InMemoryWorkQueue implements WorkQueue {
  protected readonly queued: QueuedWork[] = [];
  private readonly maxMessageBytes: number;

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  }

  protected split(messages: readonly WorkMessage[]): SerialisedWork[] {
    return messages.flatMap((message) => splitWorkMessage(message, this.maxMessageBytes));
  }

  protected store(pieces: readonly SerialisedWork[]): void {
    for (const piece of pieces) {
      this.queued.push({ workId: piece.workId, body: piece.body, message: parseWorkMessage(piece.body) });
    }
  }

  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    const pieces = this.split(messages);
    this.store(pieces);
    return { requested: messages.length, sent: pieces.length };
  }

  /** Takes up to `max` messages off the queue, oldest first. */
  receive(max = 10): QueuedWork[] {
    return this.queued.splice(0, max);
  }

  /** Messages on the queue, oldest first, without taking them. */
  peek(): readonly QueuedWork[] {
    return [...this.queued];
  }
}
