/**
 * AUDIT16 (absence) scratch. Claim: the Shared Albums "failing on every run for a day" report
 * (WorkGivenUp, failing-streak.ts) measures the streak by wall-clock time since its first failure,
 * and runs that never reach the check (every run while sign-in is latched, or while the schedule
 * or the detector is stopped: `recordCheck` is on runDetection's success path only) neither
 * continue nor break it. A Shared Albums step that failed once on the last run before a 10-day
 * sign-in latch and fails once more (one 503) on the first run after the login is reported at
 * once as failing on every run for a day: a WorkGivenUp email for two failed runs.
 */
import { describe, expect, it } from 'vitest';
import { failingDueForReport } from '#domain/shared-albums/failing-streak.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const DAY = 24 * 60 * 60 * 1000;
const failed = { failed: { errorClass: 'retryable', message: 'Apple answered 503' } } as const;

describe('audit16 absence: the Shared Albums failing streak across a sign-in latch', () => {
  it('is not reported for one failure before a 10-day latch and one after the login', async () => {
    const t0 = Date.UTC(2026, 10, 1, 12);
    const state = new InMemorySyncStateStore({ now: () => t0 });
    // The last run before the latch: its Shared Albums step fails once (a 503).
    const before = await state.recordCheck(t0, failed);
    expect(before && failingDueForReport(before, t0)).toBe(false);
    // Ten days latched: the detector runs every 15 minutes but stops before Apple, no check.
    // The first run after the login: one more 503.
    const after = t0 + 10 * DAY;
    const failing = await state.recordCheck(after, failed);
    console.log('audit16-absence streak', JSON.stringify(failing));
    expect(failing !== undefined && failingDueForReport(failing, after)).toBe(false);
  });
});
