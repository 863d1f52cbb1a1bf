/**
 * A `WorkQueue` (SQS) in front of which the Lambda process dies at a scheduled call: before the
 * messages were sent, or after SQS stored them and before the detector could save its token.
 */

import type { WorkMessage } from '#domain/model/work.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import type { CrashSchedule } from './crashing-invocation.ts';

export class CrashingWorkQueue implements WorkQueue {
  readonly #inner: WorkQueue;
  readonly #schedule: CrashSchedule;

  constructor(inner: WorkQueue, schedule: CrashSchedule) {
    this.#inner = inner;
    this.#schedule = schedule;
  }

  enqueue(messages: readonly WorkMessage[]) {
    return this.#schedule.around('queue.enqueue', () => this.#inner.enqueue(messages));
  }
}
