/**
 * Self-healing (the detector's first step, and the local runtime's at the start of a run): work
 * in the dead-letter queue goes back to the work queue when the redrive policy says it is due,
 * waits when it was redriven recently, and is given up after its last redrive. SQS deletes a
 * message `WORK_RETENTION_MS` after its last send, so nothing may stay in the dead-letter queue
 * for good: given-up work moves to the failed photos' retry list (`retry#` items, tried daily and
 * never dropped: domain/detect/failed-retries.ts), one item per photo it names, and only then is
 * the message deleted (a crash in between leaves it, and the next pass writes the same items).
 * `workGivenUp` counts it once, as it leaves, unless every photo it names was on the retry list
 * already: the list queues a copy of a photo's work on its backoff (daily in the end, never given
 * up), and each copy the failing workers fail is given up here again; the list tells a photo
 * still failing once itself (`stillFailing`), so counting every copy would alarm about daily for
 * one photo, for ever (docs/reliability.md). A letter that names no photo, or one that cannot be
 * read, is counted as before.
 *
 * While the stored session is latched (a person must sign in) nothing is redriven or given up: the
 * workers would fail the work again without asking Apple, spending its redrives, so it waits in
 * the dead-letter queue, its redrives intact, and the first pass after the login sends it back.
 * A latch longer than SQS keeps the work does not lose it: a letter within `EXPIRY_MARGIN_MS` of
 * its deletion moves to the retry list the same way (no request to Apple), and the first
 * detection after the login queues its photos again.
 *
 * What moves to the retry list is the library's photos. A Shared Album item needs nothing: the
 * album is handed out again while its items are not archived at its ctag
 * (domain/shared-albums/detect-shared-albums.ts). A tombstone or an album membership alone
 * names no photo to fetch: it is logged and dropped with the message (docs/reliability.md).
 */

import { GIVEN_UP_TRIES } from '#domain/detect/failed-retries.ts';
import { type AssetRef, assetId } from '#domain/model/manifest.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import {
  decideRedrive,
  expiresSoon,
  REDRIVE_POLICY,
  type RedrivePolicy,
  type RedriveReport,
} from '#domain/redrive/redrive-policy.ts';
import type { DeadLetter, DeadLetterQueue } from '#ports/dead-letter-queue.ts';
import type { DetectionStateStore } from '#ports/sync-state-store.ts';
import { METRICS } from '#shared/env-names.ts';
import type { Logger } from '#shared/logger.ts';
import type { PipelineMetrics } from '#shared/pipeline-metrics.ts';

export interface RedriveDeps {
  readonly deadLetters: DeadLetterQueue;
  /** Where given-up work goes: the failed photos' retry list. */
  readonly retries: Pick<DetectionStateStore, 'noteFailedForRetry'>;
  /** Reads a work message's body (the queue's codec). */
  readonly decode: (body: string) => WorkMessage;
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

/** The photos a work message would fetch or update, each once; what else it carries, counted. */
function photosOf(message: WorkMessage): { photos: AssetRef[]; other: number } {
  const photos = new Map<string, AssetRef>();
  let other = 0;
  for (const item of message.items) {
    const ref = item.type === 'asset' ? item.asset : item.type === 'assetOnly' ? item.change : undefined;
    if (ref === undefined) other += 1;
    else photos.set(assetId(ref), { zone: ref.zone, assetRecordName: ref.assetRecordName });
  }
  return { photos: [...photos.values()], other };
}

export async function redriveDeadLetters(deps: RedriveDeps): Promise<RedriveReport> {
  const report = { redriven: 0, waiting: 0, givenUp: 0 };
  let moved = 0;
  // Given-up letters that told something new: a photo newly listed, work dropped, or unreadable.
  let told = 0;
  const pending = await deps.deadLetters.pending();
  if (pending === 0) return report;
  // A latch that cannot be read counts as latched: the letters wait for the next pass, unspent.
  const latched = await deps.signInLatched?.().catch((error: unknown) => {
    deps.logger.warn('sign-in latch not read; dead letters wait for the next run', { error });
    return true;
  });
  const limit = deps.limit ?? DEFAULT_LIMIT;
  const kept: DeadLetter[] = [];
  // Moves the letter's photos to the retry list, then deletes it; false when it cannot be read.
  // `newlyListed` (when given): set when a photo was not on the list yet, or none was named.
  const moveToRetries = async (letter: DeadLetter, newlyListed?: { value: boolean }): Promise<boolean> => {
    // Given up after every redrive (a day of tries, told now): tried daily from here on.
    const options = newlyListed === undefined ? undefined : { tries: GIVEN_UP_TRIES };
    let message: WorkMessage;
    try {
      message = deps.decode(letter.body);
    } catch (error) {
      deps.logger.error('dead-lettered work not readable; it stays in the dead-letter queue', { error });
      return false;
    }
    const { photos, other } = photosOf(message);
    let listed = photos.length === 0;
    for (const photo of photos)
      if (await deps.retries.noteFailedForRetry(photo, deps.now(), options)) listed = true;
    if (newlyListed !== undefined) newlyListed.value = listed;
    await deps.deadLetters.remove(letter);
    moved += 1;
    if (other > 0) deps.logger.warn('dead-lettered work given up without a photo to retry', { items: other });
    return true;
  };
  try {
    for (let seen = 0; seen < limit; ) {
      const letters = await deps.deadLetters.take(limit - seen);
      if (letters.length === 0) break;
      seen += letters.length;
      for (const letter of letters) {
        if (latched === true) {
          // Latched: it waits, unless SQS would delete it first.
          if (!expiresSoon(letter, deps.now()) || !(await moveToRetries(letter))) {
            kept.push(letter);
            report.waiting += 1;
          }
          continue;
        }
        const decision = decideRedrive(letter, deps.now(), deps.policy ?? REDRIVE_POLICY);
        if (decision.action === 'redrive') {
          await deps.deadLetters.redrive(letter, deps.now());
          report.redriven += 1;
        } else if (decision.action === 'wait') {
          kept.push(letter);
          report.waiting += 1;
        } else {
          report.givenUp += 1;
          const newlyListed = { value: true };
          if (!(await moveToRetries(letter, newlyListed))) kept.push(letter);
          if (newlyListed.value) told += 1;
        }
      }
    }
  } finally {
    await deps.deadLetters.release(kept);
  }
  const done = { ...report, ...(moved > 0 && { movedToRetries: moved }) };
  if (latched === true) {
    deps.logger.info('dead-lettered work waits for the sign-in', done);
    return done;
  }
  deps.metrics.add(METRICS.workRedriven, report.redriven);
  deps.metrics.add(METRICS.workGivenUp, told);
  if (report.redriven + report.waiting + report.givenUp > 0)
    deps.logger.info('dead-lettered work redriven', done);
  if (told > 0)
    deps.logger.error('dead-lettered work given up after every redrive: its photos go to the retry list', {
      givenUp: report.givenUp,
      movedToRetries: moved,
    });
  else if (report.givenUp > 0)
    deps.logger.warn('dead-lettered work given up again: its photos were on the retry list already', {
      givenUp: report.givenUp,
    });
  return done;
}
