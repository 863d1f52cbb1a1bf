/** When dead-lettered work goes back to the work queue: at once, then with backoff, then never. */
import { describe, expect, it } from 'vitest';
import {
  backoffAfter,
  decideRedrive,
  REDRIVE_POLICY,
  type RedrivePolicy,
} from '#domain/redrive/redrive-policy.ts';

const HOUR = 60 * 60 * 1000;
const NOW = Date.UTC(2026, 11, 6, 12);
const policy: RedrivePolicy = { maxRedrives: 3, firstBackoffMs: HOUR, maxBackoffMs: 3 * HOUR };

describe('the redrive policy', () => {
  it('redrives work never redriven at the next run', () => {
    expect(decideRedrive({ redrives: 0 }, NOW, policy)).toEqual({ action: 'redrive' });
  });

  it('waits the backoff after a redrive, doubling it each time up to the ceiling', () => {
    expect([1, 2, 3, 4].map((n) => backoffAfter(n, policy))).toEqual([HOUR, 2 * HOUR, 3 * HOUR, 3 * HOUR]);
    const last = NOW - HOUR + 1;
    expect(decideRedrive({ redrives: 1, lastRedrivenAt: last }, NOW, policy)).toEqual({
      action: 'wait',
      untilMs: last + HOUR,
    });
    expect(decideRedrive({ redrives: 1, lastRedrivenAt: NOW - HOUR }, NOW, policy)).toEqual({
      action: 'redrive',
    });
    expect(decideRedrive({ redrives: 2, lastRedrivenAt: NOW - HOUR }, NOW, policy)).toMatchObject({
      action: 'wait',
    });
  });

  it('gives up after the last redrive, however long ago it was', () => {
    expect(decideRedrive({ redrives: 3, lastRedrivenAt: NOW - 100 * HOUR }, NOW, policy)).toEqual({
      action: 'giveUp',
    });
  });

  it('spans about a day by default: five redrives, the last 15 hours after the first', () => {
    expect(REDRIVE_POLICY.maxRedrives).toBe(5);
    const pauses = [1, 2, 3, 4].map((n) => backoffAfter(n));
    expect(pauses.reduce((a, b) => a + b, 0)).toBe(15 * HOUR);
  });
});
