/**
 * When dead-lettered work goes back to the work queue (self-healing). Work lands in the
 * dead-letter queue after its tries ran out, usually to a fault that clears (Apple's CDN resets,
 * 503 windows, truncated bodies): a later run tries it again, with a growing pause between
 * redrives so a lasting fault is not hammered, and gives up after a few redrives so something that
 * can never succeed stays in the dead-letter queue, alarmed, for a person.
 */

export interface RedrivePolicy {
  /** Redrives of one message before it is given up (left in the dead-letter queue). */
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
  return now >= untilMs ? { action: 'redrive' } : { action: 'wait', untilMs };
}

/** What a redrive pass did. */
export interface RedriveReport {
  readonly redriven: number;
  readonly waiting: number;
  readonly givenUp: number;
}
