/**
 * When a Shared Albums step failing on every run calls a person: a passing fault (Apple's 503, a
 * throttled write) is only logged, but one that lasts a day (a schema refusing what Apple now
 * sends, a state item DynamoDB refuses, a grant missing) would stop Shared Albums archiving for
 * good with every alarm quiet. It is counted once per streak in `workGivenUp`. Pure.
 */
import type { SharedAlbumsFailing } from '../model/sync-state.ts';

/** A day of failing runs, as a failed photo's retries are given a day before anyone is told. */
export const REPORT_FAILING_AFTER_MS = 24 * 60 * 60 * 1000;

/** Messages are cut to this many characters before they are stored. */
export const FAILING_MESSAGE_CHARS = 300;

/** True when the streak has lasted a day and nobody was told yet. */
export function failingDueForReport(failing: SharedAlbumsFailing, now: number): boolean {
  return failing.reportedAt === undefined && now - failing.since >= REPORT_FAILING_AFTER_MS;
}
