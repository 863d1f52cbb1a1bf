/**
 * "Failing on every run for a day" across a long absence of checks. Found by the absence audit
 * (2026-12-07): the Shared Albums step's streak (failing-streak.ts) and the album walk's
 * (album-walk-retry.ts) measured the time since their first failure, and runs that never reach
 * the step (every run while sign-in is latched, or while the schedule or the detector is stopped)
 * neither continued nor broke them: one failure on the last run before a 10-day latch and one on
 * the first run after the login were reported at once as a day of failing runs (a WorkGivenUp
 * email for two failed runs). One rule now: a failure more than `FAILING_STREAK_GAP_MS` after the
 * streak's last one starts a new streak.
 */
import { describe, expect, it } from 'vitest';
import { afterAlbumWalkProblems } from '#domain/detect/album-walk-retry.ts';
import {
  FAILING_STREAK_GAP_MS,
  failingDueForReport,
  REPORT_FAILING_AFTER_MS,
} from '#domain/shared-albums/failing-streak.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const DAY = 24 * 60 * 60 * 1000;
const MINUTES = 60 * 1000;
const failed = { failed: { errorClass: 'retryable', message: 'Apple answered 503' } } as const;

describe('the Shared Albums failing streak across a sign-in latch', () => {
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
    expect(failing).toMatchObject({ since: after, lastFailedAt: after });
    expect(failing !== undefined && failingDueForReport(failing, after)).toBe(false);
  });

  it('is reported after a day of runs failing every 15 minutes, and after a day of a daily schedule', async () => {
    const t0 = Date.UTC(2026, 10, 1, 12);
    const state = new InMemorySyncStateStore({ now: () => t0 });
    let at = t0;
    let failing = await state.recordCheck(at, failed);
    while (at - t0 < REPORT_FAILING_AFTER_MS) {
      at += 15 * MINUTES;
      failing = await state.recordCheck(at, failed);
    }
    expect(failing !== undefined && failingDueForReport(failing, at)).toBe(true);
    // The longest schedule allowed (a run a day, a few seconds late): the second failure tells.
    const daily = new InMemorySyncStateStore({ now: () => t0 });
    await daily.recordCheck(t0, failed);
    const next = t0 + DAY + 5_000;
    const second = await daily.recordCheck(next, failed);
    expect(second !== undefined && failingDueForReport(second, next)).toBe(true);
  });
});

describe("the album walk's streak across a sign-in latch", () => {
  it('starts afresh at a walk with problems long after the last one, untold', () => {
    const t0 = Date.UTC(2026, 10, 1, 12);
    const first = afterAlbumWalkProblems(undefined, t0);
    // Ten days latched (no walk), then the first run after the login walks again, with problems.
    const after = afterAlbumWalkProblems(first.retry, t0 + 10 * DAY);
    expect(after).toEqual({
      retry: { since: t0 + 10 * DAY, tries: 1, lastTriedAt: t0 + 10 * DAY },
      tell: false,
    });
  });

  it('is told a day after its first walk when the walks came on their backoff', () => {
    const t0 = Date.UTC(2026, 10, 1, 12);
    let step = afterAlbumWalkProblems(undefined, t0);
    // The next three runs, then 1, 2, 4 and 8 hours apart: none further than the streak's gap.
    for (const gap of [15, 15, 15, 60, 120, 240, 480].map((m) => m * MINUTES)) {
      expect(gap).toBeLessThan(FAILING_STREAK_GAP_MS);
      step = afterAlbumWalkProblems(step.retry, step.retry.lastTriedAt + gap);
      expect(step.tell).toBe(false);
    }
    // The walk due a day after the first (nextAlbumWalkAt): told.
    step = afterAlbumWalkProblems(step.retry, t0 + DAY);
    expect(step).toMatchObject({ tell: true, retry: { since: t0, told: true } });
  });
});
