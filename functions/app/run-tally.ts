/**
 * What a download batch's deliveries did, by the detection run that handed the work out: added up
 * in memory and written to each run's record once, when the batch ends, not once per message
 * (a first sync of 300 photos in 16 messages wrote the record 20 times). The record's counts are
 * what `status` shows, not state anything resumes from: a process that dies before the batch's
 * end loses them, as one dying between a message's work and its report always could (the
 * redelivery finds those items done and does not count them again).
 */
import type { RunRef } from '#domain/model/run.ts';
import type { ArchiveStateStore } from '#ports/sync-state-store.ts';
import type { Logger } from '#shared/logger.ts';

export interface RunTally {
  /** Adds counts to the run's tally (zeros are kept: the record shows each count it was given). */
  add(run: RunRef, counts: Readonly<Record<string, number>>): void;
  /** Writes each run's tally (one update a run) and forgets it; a run not updated is logged, not thrown. */
  write(state: Pick<ArchiveStateStore, 'addRunProgress'>, logger: Logger): Promise<void>;
}

export function runTally(): RunTally {
  // By run id: it names a run alone (its start time completes its record's key).
  const runs = new Map<string, [RunRef, Record<string, number>]>();
  return {
    add(run, counts) {
      const tally = runs.get(run.runId)?.[1] ?? {};
      runs.set(run.runId, [run, tally]);
      for (const name in counts) tally[name] = (tally[name] ?? 0) + counts[name]!;
    },
    async write(state, logger) {
      for (const [id, [run, counts]] of runs) {
        runs.delete(id);
        await state
          .addRunProgress(run, { counts })
          .catch((error: unknown) => logger.warn('run record not updated', { error }));
      }
    },
  };
}
