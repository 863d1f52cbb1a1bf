/**
 * An in-memory state store whose chosen methods fail, to play DynamoDB being down or throttled
 * at a precise point ("the token write fails after the enqueue succeeded"). Each named method
 * throws `error` on the calls listed in `failOnCalls` (1-based; all calls when omitted) and
 * behaves normally otherwise.
 */
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import { InMemorySyncStateStore } from './in-memory-sync-state-store.ts';

type MethodName = {
  [K in keyof SyncStateStore]: SyncStateStore[K] extends (...args: never[]) => unknown ? K : never;
}[keyof SyncStateStore];

export interface FailurePlan {
  readonly method: MethodName;
  readonly error: () => Error;
  readonly failOnCalls?: readonly number[];
}

/** An error shaped like the SDK's throttling error, which `classifyError` treats as retryable. */
export function throttlingError(): Error {
  return Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
}

export class FailingSyncStateStore extends InMemorySyncStateStore {
  readonly calls = new Map<MethodName, number>();

  constructor(plans: readonly FailurePlan[], options: { now?: () => number } = {}) {
    super(options);
    for (const plan of plans) {
      const original = (this as unknown as Record<string, (...args: unknown[]) => unknown>)[plan.method];
      if (original === undefined) throw new Error(`no method ${plan.method}`);
      const bound = original.bind(this);
      Object.defineProperty(this, plan.method, {
        value: (...args: unknown[]) => {
          const call = (this.calls.get(plan.method) ?? 0) + 1;
          this.calls.set(plan.method, call);
          if (plan.failOnCalls === undefined || plan.failOnCalls.includes(call)) {
            // entries() is an async iterable, every other method a promise.
            if (plan.method === 'entries') {
              return (async function* () {
                yield* [];
                throw plan.error();
              })();
            }
            return Promise.reject(plan.error());
          }
          return bound(...args);
        },
      });
    }
  }
}
