/**
 * When dead-lettered work goes back to the work queue (self-healing). Work lands in the
 * dead-letter queue after its tries ran out, usually to a fault that clears (Apple's CDN resets,
 * 503 windows, truncated bodies): a later run tries it again, with a growing pause between
 * redrives so a lasting fault is not hammered, and gives up after a few redrives: the work then
 * leaves the dead-letter queue for the failed photos' retry list (tried daily, never dropped),
 * since SQS deletes what stays in a queue `WORK_RETENTION_MS` after its last send.
 */

import { WORK_RETENTION_MS } from '#shared/env-names.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A dead letter this close to its deletion does not wait any more (a latch, a backoff): it is
 * redriven, or, while sign-in is latched, its work goes to the retry list. A day: the detector
 * runs every 15 minutes, so a day's failed runs still leave it time.
 */
export const EXPIRY_MARGIN_MS = DAY_MS;

export interface RedrivePolicy {
  /** Redrives of one message before it is given up (its photos go to the retry list). */
  readonly maxRedrives: number;
  /** Pause after the first redrive before the second; doubles with each redrive. */
  readonly firstBackoffMs: number;
  /** The longest pause between two redrives. */
  readonly maxBackoffMs: number;
}

/**
 * The first redrive is at the next run, the next ones 1, 2, 4, 8 hours after the last: five
 * redrives of five tries each span about a day, as long as Apple's longest 503 windows.
 */
export const REDRIVE_POLICY: RedrivePolicy = {
  maxRedrives: 5,
  firstBackoffMs: 60 * 60 * 1000,
  maxBackoffMs: 8 * 60 * 60 * 1000,
};

/** What is known of one dead-lettered message. */
export interface DeadLetterHistory {
  /** Times this work has already been redriven. */
  readonly redrives: number;
  /** When it was last redriven (ms since the epoch); undefined if never. */
  readonly lastRedrivenAt?: number;
  /** When it was last sent (ms since the epoch): SQS deletes it `WORK_RETENTION_MS` after. */
  readonly sentAt?: number;
}

/** Whether SQS deletes this message within `EXPIRY_MARGIN_MS` (never known without `sentAt`). */
export function expiresSoon(history: DeadLetterHistory, now: number): boolean {
  return history.sentAt !== undefined && now >= history.sentAt + WORK_RETENTION_MS - EXPIRY_MARGIN_MS;
}

export type RedriveDecision =
  | { readonly action: 'redrive' }
  | { readonly action: 'wait'; readonly untilMs: number }
  | { readonly action: 'giveUp' };

/** The pause required after the `redrives`-th redrive before the next one. */
export function backoffAfter(redrives: number, policy: RedrivePolicy = REDRIVE_POLICY): number {
  if (redrives <= 0) return 0;
  return Math.min(policy.maxBackoffMs, policy.firstBackoffMs * 2 ** (redrives - 1));
}

export function decideRedrive(
  history: DeadLetterHistory,
  now: number,
  policy: RedrivePolicy = REDRIVE_POLICY,
): RedriveDecision {
  if (history.redrives >= policy.maxRedrives) return { action: 'giveUp' };
  if (history.lastRedrivenAt === undefined) return { action: 'redrive' };
  const untilMs = history.lastRedrivenAt + backoffAfter(history.redrives, policy);
  // A redrive is a new send: one about to be deleted goes now rather than wait past its deletion.
  return now >= untilMs || expiresSoon(history, now) ? { action: 'redrive' } : { action: 'wait', untilMs };
}

/** What a redrive pass did. */
export interface RedriveReport {
  readonly redriven: number;
  readonly waiting: number;
  /** Messages past their last redrive, their photos moved to the retry list (or kept: unreadable). */
  readonly givenUp: number;
  /**
   * Messages whose work this pass put on the failed photos' retry list and removed: the given up,
   * and, while sign-in is latched, those SQS would delete within `EXPIRY_MARGIN_MS`.
   */
  readonly movedToRetries?: number;
}
