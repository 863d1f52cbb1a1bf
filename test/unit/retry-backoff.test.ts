import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  type RetryPolicy,
  retry,
} from '#shared/retry.ts';

const policy: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 8_000,
  retryAfterCapMs: 120_000,
};

class FlakyServer {
  calls = 0;
  constructor(
    private readonly failures: number,
    private readonly error: Error = new Error('503 from a flaky server'),
  ) {}
  readonly call = async (): Promise<string> => {
    this.calls++;
    if (this.calls <= this.failures) throw this.error;
    return 'ok';
  };
}

function recordingSleep() {
  const slept: number[] = [];
  return { slept, sleep: async (ms: number) => void slept.push(ms) };
}

describe('retry', () => {
  it('returns the first success after transient failures', async () => {
    const server = new FlakyServer(2);
    const { sleep } = recordingSleep();
    const result = await retry(server.call, {
      policy,
      decide: () => ({ retry: true }),
      sleep,
      random: () => 0.5,
    });
    expect(result).toBe('ok');
    expect(server.calls).toBe(3);
  });

  it('rethrows the last failure once attempts run out', async () => {
    const server = new FlakyServer(10);
    const { sleep } = recordingSleep();
    await expect(retry(server.call, { policy, decide: () => ({ retry: true }), sleep })).rejects.toThrow(
      '503 from a flaky server',
    );
    expect(server.calls).toBe(policy.maxAttempts);
  });

  it('does not retry a failure the caller calls final', async () => {
    const server = new FlakyServer(10);
    await expect(retry(server.call, { policy, decide: () => ({ retry: false }) })).rejects.toThrow();
    expect(server.calls).toBe(1);
  });

  it('uses full jitter under an exponentially growing, capped ceiling', async () => {
    const server = new FlakyServer(10);
    const { slept, sleep } = recordingSleep();
    const longPolicy = { ...policy, maxAttempts: 6 };
    await expect(
      retry(server.call, {
        policy: longPolicy,
        decide: () => ({ retry: true }),
        sleep,
        random: () => 0.999999,
      }),
    ).rejects.toThrow();
    expect(slept).toEqual([999, 1999, 3999, 7999, 7999]);
  });

  it('can wait zero when the jitter draws zero', () => {
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });

  it("honours the server's Retry-After instead of the backoff", async () => {
    const server = new FlakyServer(1);
    const { slept, sleep } = recordingSleep();
    await retry(server.call, { policy, decide: () => ({ retry: true, retryAfterMs: 7_000 }), sleep });
    expect(slept).toEqual([7_000]);
  });

  it('caps a Retry-After that asks for more than the cap', async () => {
    const server = new FlakyServer(1);
    const { slept, sleep } = recordingSleep();
    await retry(server.call, { policy, decide: () => ({ retry: true, retryAfterMs: 3_600_000 }), sleep });
    expect(slept).toEqual([120_000]);
  });

  it('gives up instead of sleeping past the deadline', async () => {
    const server = new FlakyServer(10);
    const { slept, sleep } = recordingSleep();
    const now = () => 1_000_000;
    await expect(
      retry(server.call, {
        policy,
        decide: () => ({ retry: true, retryAfterMs: 5_000 }),
        sleep,
        now,
        deadline: now() + 4_000,
      }),
    ).rejects.toThrow();
    expect(server.calls).toBe(1);
    expect(slept).toEqual([]);
  });

  it('reports each scheduled retry to the observer', async () => {
    const server = new FlakyServer(2);
    const { sleep } = recordingSleep();
    const seen: number[] = [];
    await retry(server.call, {
      policy,
      decide: () => ({ retry: true }),
      sleep,
      random: () => 0,
      onRetry: ({ attempt }) => seen.push(attempt),
    });
    expect(seen).toEqual([1, 2]);
  });

  it('stops when the signal has aborted', async () => {
    const server = new FlakyServer(10);
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    await expect(
      retry(server.call, { policy, decide: () => ({ retry: true }), signal: controller.signal }),
    ).rejects.toThrow('503 from a flaky server');
    expect(server.calls).toBe(1);
  });

  it('ships a default policy with a 120 s Retry-After cap', () => {
    expect(DEFAULT_RETRY_POLICY.retryAfterCapMs).toBe(120_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('30', now)).toBe(30_000);
  });

  it('reads an HTTP-date relative to now', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
  });

  it('treats an HTTP-date in the past as no wait', () => {
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores an absent or unreadable value', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
