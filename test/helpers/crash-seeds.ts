/**
 * The crash tests' seed knob (test/README.md): `CRASH_SEED` (the first seed), `CRASH_CASES`
 * (first-sync cases of crash-pipeline), `CRASH_INCREMENTAL_CASES` (its incremental cases). Without
 * them the seeds are the fixed ones CI has always run (first syncs 1-24, incrementals 101-110), so
 * CI is unchanged; with them a soak draws new ones and a failure reruns with the printed line.
 */

export interface CrashSeeds {
  /** The first seed; the first syncs' seeds start here, the incrementals' 100 further on. */
  readonly seed: number;
  readonly firstSync: readonly number[];
  readonly incremental: readonly number[];
  /** True when `CRASH_SEED` was given: crash-local-sync then draws its kill point from it. */
  readonly chosen: boolean;
  /** The command line that draws the same seeds again. */
  readonly rerun: string;
}

const DEFAULT_SEED = 1;
const DEFAULT_FIRST_SYNC = 24;
const DEFAULT_INCREMENTAL = 10;
/** Incremental seeds start this far after the first seed (1 -> 101, as CI has always run them). */
const INCREMENTAL_OFFSET = 100;

function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number >= 0, not '${value}'`);
  return n;
}

export function crashSeeds(env: NodeJS.ProcessEnv = process.env): CrashSeeds {
  const given = env.CRASH_SEED !== undefined && env.CRASH_SEED !== '';
  const seed = given ? Number(env.CRASH_SEED) : DEFAULT_SEED;
  // seededRandom takes the seed as an unsigned 32-bit number: anything else would silently alias.
  if (!Number.isInteger(seed) || seed < 0 || seed + INCREMENTAL_OFFSET > 0xffff_ffff)
    throw new Error(`CRASH_SEED must be a whole number from 0 to ${0xffff_ffff - INCREMENTAL_OFFSET}`);
  const firstCount = count('CRASH_CASES', env.CRASH_CASES, DEFAULT_FIRST_SYNC);
  const incrementalCount = count('CRASH_INCREMENTAL_CASES', env.CRASH_INCREMENTAL_CASES, DEFAULT_INCREMENTAL);
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  return {
    seed,
    firstSync: range(seed, firstCount),
    incremental: range(seed + INCREMENTAL_OFFSET, incrementalCount),
    chosen: given,
    rerun: `CRASH_SEED=${seed} CRASH_CASES=${firstCount} CRASH_INCREMENTAL_CASES=${incrementalCount}`,
  };
}
