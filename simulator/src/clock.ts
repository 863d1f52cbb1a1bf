/**
 * The simulated clock. It follows real time (so signed URLs and sessions age during a long demo) plus an
 * offset that only ever grows (`advance`). Everything time-dependent in the simulator reads it.
 */
import type { Clock } from './types.ts';

export interface SimClock extends Clock {
  /** The total ms added by `advance` since start (persisted so a restart keeps simulated time). */
  readonly offsetMs: number;
}

/** A clock at real time plus `initialOffsetMs`. `advance` rejects negative or non-finite amounts. */
export function createClock(initialOffsetMs = 0, realNow: () => number = Date.now): SimClock {
  let offset = initialOffsetMs;
  return {
    now: () => realNow() + offset,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
      offset += ms;
    },
    get offsetMs() {
      return offset;
    },
  };
}
