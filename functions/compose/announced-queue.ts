/**
 * A work queue that says when each batch of work is on it: the local run's download pollers start
 * with the first batch and wake with each next one, while detection goes on paging (Lambda's
 * workers are triggered by SQS itself).
 */
import type { WorkMessage } from '#domain/model/work.ts';
import type { WorkQueue } from '#ports/work-queue.ts';

/** `inner`, calling `onEnqueued` once each batch is durable on it (not when an enqueue fails). */
export function announcedQueue(
  inner: WorkQueue,
  onEnqueued: ((messages: readonly WorkMessage[]) => void) | undefined,
): WorkQueue {
  if (onEnqueued === undefined) return inner;
  return {
    async enqueue(messages) {
      const receipt = await inner.enqueue(messages);
      onEnqueued(messages);
      return receipt;
    },
  };
}
