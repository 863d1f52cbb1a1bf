import { describe, expect, it } from 'vitest';
import { describeTrust } from '../../functions/cli/io/trust-text.ts';

const DAY = 24 * 60 * 60 * 1000;
const now = Date.parse('2026-12-06T12:00:00Z');

describe('describeTrust', () => {
  it('counts the whole days left before the expiry', () => {
    expect(describeTrust(now + 59 * DAY + 3_600_000, now)).toBe('expires 2027-02-03 (59 days)');
    expect(describeTrust(now + DAY, now)).toBe('expires 2026-12-07 (1 day)');
    expect(describeTrust(now + 3_600_000, now)).toBe('expires 2026-12-06 (within a day)');
  });

  it('says how long ago an expired trust ran out, never a negative count', () => {
    expect(describeTrust(now - 2 * DAY - 3_600_000, now)).toBe('expired 2 days ago (2026-12-04)');
    expect(describeTrust(now - DAY, now)).toBe('expired 1 day ago (2026-12-05)');
    expect(describeTrust(now - 60_000, now)).toBe('expired less than a day ago (2026-12-06)');
  });
});
