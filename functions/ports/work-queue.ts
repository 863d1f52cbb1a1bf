/**
 * Hands work from change detection to the download workers. The message format is the shared
 * work-message contract; the queue may split a message into several (same `runId` and
 * `issuedAt`, items partitioned in order) to stay under the transport's size limit.
 */
import type { WorkMessage } from '#domain/model/work.ts';

export interface EnqueueReceipt {
  /** Work messages given to `enqueue`. */
  readonly requested: number;
  /** Messages actually sent after splitting (>= requested). */
  readonly sent: number;
}

export interface WorkQueue {
  /**
   * Makes every message durable on the queue, or throws. Resolving means all of them are
   * stored: only then may the caller advance a sync token past the work they carry.
   * Throws `EnqueueError` (domain/errors.ts) when some could not be stored after bounded retries (some others
   * may have been: the consumer is idempotent), `InvalidInputError` when a single item alone
   * is over the size limit.
   */
  enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt>;
}
