/**
 * When an album walk that had problems (an album or member CloudKit served as an error item: it
 * deletes nothing and is not recorded as done) is walked again. Not on every run: an error item
 * that lasts would make every idle run cost the whole walk. The failed photos' backoff
 * (`nextLookupAt` of a record without a URL: the next three runs, then 1, 2, 4, 8, 16 hours apart,
 * then daily; never given up), and a day after the first such walk it is told once (the
 * `workGivenUp` metric and its alarm, as a Shared Albums step failing a day is): that walk is due
 * then, whatever the pause. Pure; kept in the zone's checkpoint (`albumRetry`).
 */
import { continuesStreak, REPORT_FAILING_AFTER_MS } from '../shared-albums/failing-streak.ts';
import { nextLookupAt } from './unreadable-records.ts';

export interface AlbumWalkRetry {
  /** When the first walk with problems in a row ended (ms). */
  readonly since: number;
  /** Walks with problems in a row. */
  readonly tries: number;
  readonly lastTriedAt: number;
  /** Told (`workGivenUp`): once a row. */
  readonly told?: true;
}

/** When the albums are walked again: undefined at the next run. */
export function nextAlbumWalkAt(retry: AlbumWalkRetry): number | undefined {
  const next = nextLookupAt({ name: '', tries: retry.tries, lastTriedAt: retry.lastTriedAt, noUrl: true });
  return retry.told || next === undefined ? next : Math.min(next, retry.since + REPORT_FAILING_AFTER_MS);
}

/** Whether a walk is due at `now` (always without a walk with problems before it). */
export const albumWalkDue = (retry: AlbumWalkRetry | undefined, now: number): boolean =>
  retry === undefined || now >= (nextAlbumWalkAt(retry) ?? now);

/**
 * After one more walk with problems at `now`: the next retry, and whether to tell now. A walk more
 * than `FAILING_STREAK_GAP_MS` after the last one (a sign-in latch, a stopped schedule between)
 * starts a new row, its backoff and its day afresh, as the Shared Albums step's streak does.
 */
export function afterAlbumWalkProblems(
  previous: AlbumWalkRetry | undefined,
  now: number,
): { readonly retry: AlbumWalkRetry; readonly tell: boolean } {
  const retry = previous !== undefined && continuesStreak(previous.lastTriedAt, now) ? previous : undefined;
  const since = retry?.since ?? now;
  const tell = !retry?.told && now - since >= REPORT_FAILING_AFTER_MS;
  const told = tell || retry?.told ? { told: true as const } : {};
  return { retry: { since, tries: (retry?.tries ?? 0) + 1, lastTriedAt: now, ...told }, tell };
}
