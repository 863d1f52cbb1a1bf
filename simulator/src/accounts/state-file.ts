/**
 * Persistence of the auth state under `--state-dir`: one JSON file, written atomically (temp file +
 * rename), coalescing bursts of changes into one write.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class StateFile<T> {
  readonly #path: string;
  #timer: NodeJS.Timeout | undefined;
  #pending: (() => T) | undefined;

  constructor(dir: string, name = 'auth-state.json') {
    mkdirSync(dir, { recursive: true });
    this.#path = join(dir, name);
  }

  /** The stored value, or undefined when there is none yet. A corrupt file is an error, not a reset. */
  read(): unknown {
    try {
      return JSON.parse(readFileSync(this.#path, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Schedules a write of `snapshot()` within `delayMs` (later calls in the window coalesce). */
  schedule(snapshot: () => T, delayMs = 100): void {
    this.#pending = snapshot;
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.flush(), delayMs);
    this.#timer.unref();
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const snapshot = this.#pending;
    this.#pending = undefined;
    if (!snapshot) return;
    const tmp = `${this.#path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(snapshot()));
    renameSync(tmp, this.#path);
  }
}
