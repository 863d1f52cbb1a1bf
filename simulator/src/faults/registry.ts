/** The injected faults, matched per request. */
import type { SimRequest } from '../types.ts';
import type { FaultSpec } from './fault-spec.ts';

export interface FaultRule extends FaultSpec {
  readonly id: number;
  /** Times it fired so far. */
  fired: number;
}

export class FaultRegistry {
  readonly #rules: FaultRule[] = [];
  #nextId = 1;
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  add(spec: FaultSpec): FaultRule {
    const rule: FaultRule = { ...spec, id: this.#nextId++, fired: 0 };
    this.#rules.push(rule);
    return rule;
  }

  list(): readonly FaultRule[] {
    return this.#rules;
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /**
   * The first rule that applies to this request, counted as fired; rules that used up their
   * `count` are removed. Cheap when no faults are set (the common, benchmarked case).
   */
  match(key: string, req: SimRequest): FaultRule | undefined {
    if (this.#rules.length === 0) return undefined;
    for (let i = 0; i < this.#rules.length; i++) {
      const r = this.#rules[i]!;
      if (r.endpoint !== '*' && r.endpoint !== key) continue;
      if (r.host !== undefined && r.host !== req.host) continue;
      if (r.method !== undefined && r.method !== req.method) continue;
      if (r.pathContains !== undefined && !req.path.includes(r.pathContains)) continue;
      if (
        r.userAgentContains !== undefined &&
        !(req.headers['user-agent'] ?? '').includes(r.userAgentContains)
      )
        continue;
      if (r.probability !== undefined && this.#random() >= r.probability) continue;
      r.fired += 1;
      if (r.count !== undefined && r.fired >= r.count) this.#rules.splice(i, 1);
      return r;
    }
    return undefined;
  }
}
