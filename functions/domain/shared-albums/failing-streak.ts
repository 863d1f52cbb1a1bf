/**
 * When a Shared Albums step failing on every run calls a person: a passing fault (Apple's 503, a
 * throttled write) is only logged, but one that lasts a day (a schema refusing what Apple now
 * sends, a state item DynamoDB refuses, a grant missing) would stop Shared Albums archiving for
 * good with every alarm quiet. It is counted once per streak in `workGivenUp`. Pure.
 */
import type { SharedAlbumsFailing } from '../model/sync-state.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A day of failing runs, as a failed photo's retries are given a day before anyone is told. */
export const REPORT_FAILING_AFTER_MS = DAY_MS;

/**
 * A failure more than this after the streak's last one starts a new streak. The runs between did
 * not reach the step (sign-in latched, the schedule or the detector stopped, detection failing
 * before it): nothing says it failed on each of them, so "failing on every run for a day" is told
 * of failures no further apart than this. Two days: two periods of the longest schedule there is
 * (a day, `scheduleMinutes` in infra/config.ts; the detector is not told its own), and more than
 * the album walk's retries leave between two walks before the day is out. One rule for both
 * streaks: the Shared Albums step's (`recordCheck`) and the album walk's (album-walk-retry.ts).
 */
export const FAILING_STREAK_GAP_MS = 2 * DAY_MS;

/**
 * Whether a failure at `now` goes on with a streak whose last failure was at `lastFailedAt`
 * (else it starts a new one, not told yet).
 */
export function continuesStreak(lastFailedAt: number, now: number): boolean {
  return now - lastFailedAt <= FAILING_STREAK_GAP_MS;
}

/** The earliest last failure a failure at `now` goes on from (`continuesStreak`, as a bound). */
export function streakContinuesFrom(now: number): number {
  return now - FAILING_STREAK_GAP_MS;
}

/** Messages are cut to this many characters before they are stored. */
export const FAILING_MESSAGE_CHARS = 300;

/** True when the streak (failures none further apart than `FAILING_STREAK_GAP_MS`) has lasted a day and nobody was told yet. */
export function failingDueForReport(failing: SharedAlbumsFailing, now: number): boolean {
  return failing.reportedAt === undefined && now - failing.since >= REPORT_FAILING_AFTER_MS;
}
