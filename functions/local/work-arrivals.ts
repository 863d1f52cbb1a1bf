/**
 * Work still arriving on the local queue while the download pollers run: detection puts each
 * page's work on it as Lambda's detector does, and the pollers download it meanwhile. An empty
 * queue is drained only once detection has ended; until then an idle poller waits for the next
 * enqueue (`announce`) or the end (`finish`) instead of asking the queue again and again.
 *
 * Kept apart from drain-work-queue.ts, which loads the download handler: a run creates this at
 * its start, and an idle run loads no download code.
 */
import { signal } from '#shared/signal.ts';

export class WorkArrivals {
  #version = 0;
  #producing = true;
  #wake = signal();

  /** True until `finish`: more work may still be put on the queue. */
  producing(): boolean {
    return this.#producing;
  }

  /** Moves on at every `announce` and at `finish`: read it before asking the queue. */
  version(): number {
    return this.#version;
  }

  /** Resolves once `version()` is no longer `seen` (at once if it already moved on). */
  changedSince(seen: number): Promise<void> {
    return this.#version === seen ? this.#wake.promise : Promise.resolve();
  }

  /** Work was put on the queue (or the pollers should look again: a stop). */
  announce(): void {
    this.#version++;
    const woken = this.#wake;
    this.#wake = signal();
    woken.fire();
  }

  /** No more work will come: an empty queue is drained from now on. */
  finish(): void {
    this.#producing = false;
    this.announce();
  }

  /** Nothing will ever be added (a queue filled before the pollers start, as `verify --repair` does). */
  static none(): WorkArrivals {
    const arrivals = new WorkArrivals();
    arrivals.#producing = false;
    return arrivals;
  }
}
