/**
 * Self-healing (the detector's first step, and the local runtime's at the start of a run): work
 * in the dead-letter queue goes back to the work queue when the redrive policy says it is due,
 * waits when it was redriven recently, and is given up after its last redrive: it stays in the
 * dead-letter queue (whose alarm a person answers) and `workGivenUp` counts it on every pass.
 * While the stored session is latched (a person must sign in) nothing is redriven or given up: the
 * workers would fail the work again without asking Apple, spending its redrives, so it waits in
 * the dead-letter queue, its redrives intact, and the first pass after the login sends it back.
 */
import {
  decideRedrive,
  REDRIVE_POLICY,
  type RedrivePolicy,
  type RedriveReport,
} from '#domain/redrive/redrive-policy.ts';
import type { DeadLetter, DeadLetterQueue } from '#ports/dead-letter-queue.ts';
import { METRICS } from '#shared/env-names.ts';
import type { Logger } from '#shared/logger.ts';
import type { PipelineMetrics } from '#shared/pipeline-metrics.ts';

export interface RedriveDeps {
  readonly deadLetters: DeadLetterQueue;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly now: () => number;
  readonly policy?: RedrivePolicy;
  /** Most messages one pass looks at (a run's time goes to detection, not to a huge queue). */
  readonly limit?: number;
  /**
   * Whether the stored session is latched (asked only when dead letters wait: an idle run reads
   * nothing more). Absent: never latched.
   */
  readonly signInLatched?: () => Promise<boolean>;
}

const DEFAULT_LIMIT = 500;

export async function redriveDeadLetters(deps: RedriveDeps): Promise<RedriveReport> {
  const report = { redriven: 0, waiting: 0, givenUp: 0 };
  const pending = await deps.deadLetters.pending();
  if (pending === 0) return report;
  // A latch that cannot be read counts as latched: the letters wait for the next pass, unspent.
  const latched = await deps.signInLatched?.().catch((error: unknown) => {
    deps.logger.warn('sign-in latch not read; dead letters wait for the next run', { error });
    return true;
  });
  if (latched === true) {
    deps.logger.info('dead-lettered work waits for the sign-in', { waiting: pending });
    return { ...report, waiting: pending };
  }
  const limit = deps.limit ?? DEFAULT_LIMIT;
  const kept: DeadLetter[] = [];
  try {
    for (let seen = 0; seen < limit; ) {
      const letters = await deps.deadLetters.take(limit - seen);
      if (letters.length === 0) break;
      seen += letters.length;
      for (const letter of letters) {
        const decision = decideRedrive(letter, deps.now(), deps.policy ?? REDRIVE_POLICY);
        if (decision.action === 'redrive') {
          await deps.deadLetters.redrive(letter, deps.now());
          report.redriven += 1;
        } else {
          kept.push(letter);
          if (decision.action === 'wait') report.waiting += 1;
          else report.givenUp += 1;
        }
      }
    }
  } finally {
    await deps.deadLetters.release(kept);
  }
  deps.metrics.add(METRICS.workRedriven, report.redriven);
  deps.metrics.add(METRICS.workGivenUp, report.givenUp);
  if (report.redriven + report.waiting + report.givenUp > 0)
    deps.logger.info('dead-lettered work redriven', report);
  if (report.givenUp > 0)
    deps.logger.error('dead-lettered work given up after every redrive: it stays in the dead-letter queue', {
      givenUp: report.givenUp,
    });
  return report;
}
