/**
 * In-process retry for short hiccups: capped exponential backoff with full jitter, a server's
 * `Retry-After` honoured (delta-seconds or HTTP-date) but capped, and a deadline the loop never
 * sleeps past. Used for CloudKit 429/503/TRY_AGAIN_LATER and CDN downloads.
 *
 * Never use it for SRP sign-in: Apple answers repeated sign-ins with a 503 block that lasts hours,
 * and every retry extends it (docs/protocol/limits.md#throttling).
 */

export interface RetryPolicy {
  /** Total attempts, the first included (1 = no retry). */
  readonly maxAttempts: number;
  /** Backoff ceiling for attempt n is min(maxDelayMs, baseDelayMs * 2^(n-1)); the delay is uniform in [0, ceiling]. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Longest wait a server's Retry-After may impose (kei: 120 s). */
  readonly retryAfterCapMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  retryAfterCapMs: 120_000,
});

/** What the caller decides about one failure. */
export type RetryDecision =
  | { readonly retry: false }
  /** `retryAfterMs`: the server's requested wait, already parsed (see `parseRetryAfter`). */
  | { readonly retry: true; readonly retryAfterMs?: number };

export interface RetryOptions {
  readonly policy?: RetryPolicy;
  /** Says whether a failure is worth another attempt. Called with the 1-based attempt that failed. */
  readonly decide: (error: unknown, attempt: number) => RetryDecision;
  /** Absolute time (ms since epoch, per `now`) after which no attempt may start. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  /** Injectable for tests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  /** Observes each scheduled retry (logging, metrics). */
  readonly onRetry?: (info: {
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: unknown;
  }) => void;
}

/** Sleeps `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Full-jitter backoff for the 1-based `attempt` that just failed. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses a `Retry-After` header value: delta-seconds (`"120"`) or an HTTP-date. Returns
 * milliseconds from `now` (never negative), or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Runs `operation` until it succeeds, the caller's `decide` says stop, attempts run out, or the
 * next wait would end past `deadline`; then rethrows the last failure unchanged.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts) throw error;
      if (options.signal?.aborted) throw error;
      const decision = options.decide(error, attempt);
      if (!decision.retry) throw error;
      const delayMs =
        decision.retryAfterMs !== undefined
          ? Math.min(Math.max(0, decision.retryAfterMs), policy.retryAfterCapMs)
          : backoffDelayMs(attempt, policy, random);
      if (options.deadline !== undefined && now() + delayMs >= options.deadline) throw error;
      options.onRetry?.({ attempt, delayMs, error });
      await wait(delayMs, options.signal);
    }
  }
}
