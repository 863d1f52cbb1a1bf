/**
 * A bound on the items in flight across every message of one download batch: the batch runs its
 * messages at once, each message a few items at once, and this keeps their sum (and so the
 * memory their transfers hold, a few upload parts each) under one number per invocation.
 */
export class ItemSlots {
  readonly #waiting: { start: () => void; refuse: (reason: unknown) => void }[] = [];
  #free: number;
  #closed: { reason: unknown } | undefined;

  constructor(size: number) {
    this.#free = Math.max(1, Math.floor(size));
  }

  /** Runs `work` once a slot is free, and frees it when `work` settles. Rejects once closed. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed !== undefined) throw this.#closed.reason;
    if (this.#free > 0) this.#free--;
    else
      await new Promise<void>((start, refuse) => {
        this.#waiting.push({ start, refuse });
      });
    try {
      return await work();
    } finally {
      const next = this.#closed === undefined ? this.#waiting.shift() : undefined;
      // The slot passes straight to the next waiter, so a newcomer cannot take it in between.
      if (next !== undefined) next.start();
      else this.#free++;
    }
  }

  /**
   * Starts nothing more: items waiting for a slot, and any asked for later, reject with `reason`
   * (a session that needs a human: the rest of the batch must not ask Apple again).
   */
  close(reason: unknown): void {
    this.#closed ??= { reason };
    for (const waiter of this.#waiting.splice(0)) waiter.refuse(reason);
  }
}
