/**
 * The recent-request log of `GET /__sim/requests`: method, host, path (never the query string, which
 * holds CDN signatures), endpoint key, status, duration. Never cookies or tokens.
 */

export interface LoggedRequest {
  readonly at: number;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly endpoint: string;
  readonly status: number;
  readonly ms: number;
  /** The id of the fault that fired, if any. */
  readonly fault?: number;
}

export class RequestLog {
  readonly #entries: LoggedRequest[] = [];
  readonly #capacity: number;
  #next = 0;

  constructor(capacity = 1000) {
    this.#capacity = capacity;
  }

  add(entry: LoggedRequest): void {
    if (this.#entries.length < this.#capacity) this.#entries.push(entry);
    else this.#entries[this.#next] = entry;
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /** Oldest first; at most `limit` of the most recent. */
  recent(limit = this.#capacity): LoggedRequest[] {
    const ordered =
      this.#entries.length < this.#capacity
        ? [...this.#entries]
        : [...this.#entries.slice(this.#next), ...this.#entries.slice(0, this.#next)];
    return ordered.slice(-limit);
  }

  clear(): void {
    this.#entries.length = 0;
    this.#next = 0;
  }
}
