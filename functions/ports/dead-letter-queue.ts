/**
 * The work that failed every try (the work queue's dead-letter queue), seen from the use case
 * that gives it another chance: how much is there, take some, send one back to the work queue,
 * leave it where it is, or remove it once its work is recorded elsewhere.
 */

/** One dead-lettered work message and its redrive history (carried in message attributes). */
export interface DeadLetter {
  /** The work message, exactly as it was sent. */
  readonly body: string;
  /** Times this work has been redriven already (0 for work never redriven). */
  readonly redrives: number;
  /** When it was last redriven (ms since the epoch). */
  readonly lastRedrivenAt?: number;
  /** The transport's handle for this delivery (an SQS receipt handle). */
  readonly handle: string;
  /**
   * When this work was last sent (ms since the epoch; SQS's `SentTimestamp`, kept when a message
   * moves to the dead-letter queue, renewed by a redrive): the queue deletes it `WORK_RETENTION_MS`
   * after. Absent when the transport does not say.
   */
  readonly sentAt?: number;
}

export interface DeadLetterQueue {
  /** Messages waiting, visible or not (approximate, as SQS counts). */
  pending(): Promise<number>;
  /** Takes up to `max` messages; each stays out of sight until redriven or released. */
  take(max: number): Promise<DeadLetter[]>;
  /** Sends the work back to the work queue counting one more redrive at `at`, then removes it here. */
  redrive(letter: DeadLetter, at: number): Promise<void>;
  /** Puts a taken message back as it was (it waits). */
  release(letters: readonly DeadLetter[]): Promise<void>;
  /** Deletes a taken message: its work is recorded elsewhere (the failed photos' retry list). */
  remove(letter: DeadLetter): Promise<void>;
}
