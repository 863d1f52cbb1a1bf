/**
 * Call accounting for `GET /__sim/stats`: one counter per endpoint key (see `endpointKeyOf` in
 * server routing), plus the total. Control calls are never counted.
 */
import type { EndpointKey } from './types.ts';

export interface StatsSnapshot {
  readonly total: number;
  readonly requests: Readonly<Record<EndpointKey, number>>;
}

export class RequestStats {
  readonly #counts = new Map<EndpointKey, number>();
  #total = 0;

  count(key: EndpointKey): void {
    this.#total += 1;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  snapshot(): StatsSnapshot {
    return { total: this.#total, requests: Object.fromEntries(this.#counts) };
  }

  reset(): void {
    this.#counts.clear();
    this.#total = 0;
  }
}
