/**
 * `DeadLetterQueue` in memory with SQS's semantics: a taken message is out of sight until it is
 * redriven (sent to `workQueue` with one more redrive, then gone from here), released or removed.
 */
import type { DeadLetter, DeadLetterQueue } from '#ports/dead-letter-queue.ts';

export class InMemoryDeadLetterQueue implements DeadLetterQueue {
  readonly letters = new Map<string, DeadLetter>();
  readonly workQueue: { body: string; redrives: number; redrivenAt: number }[] = [];
  readonly #taken = new Set<string>();
  #next = 0;

  readonly removed: DeadLetter[] = [];

  add(body: string, history: { redrives?: number; lastRedrivenAt?: number; sentAt?: number } = {}): void {
    const handle = `h${this.#next++}`;
    this.letters.set(handle, { body, redrives: history.redrives ?? 0, handle, ...history });
  }

  async pending(): Promise<number> {
    return this.letters.size;
  }

  async take(max: number): Promise<DeadLetter[]> {
    const visible = [...this.letters.values()].filter((l) => !this.#taken.has(l.handle)).slice(0, max);
    for (const letter of visible) this.#taken.add(letter.handle);
    return visible;
  }

  async redrive(letter: DeadLetter, at: number): Promise<void> {
    if (!this.#taken.has(letter.handle)) throw new Error('redrive of a message not taken');
    this.workQueue.push({ body: letter.body, redrives: letter.redrives + 1, redrivenAt: at });
    this.letters.delete(letter.handle);
    this.#taken.delete(letter.handle);
  }

  async remove(letter: DeadLetter): Promise<void> {
    if (!this.#taken.has(letter.handle)) throw new Error('removal of a message not taken');
    this.removed.push(letter);
    this.letters.delete(letter.handle);
    this.#taken.delete(letter.handle);
  }

  async release(letters: readonly DeadLetter[]): Promise<void> {
    for (const letter of letters) this.#taken.delete(letter.handle);
  }
}
