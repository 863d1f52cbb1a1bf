/**
 * Generates the matrix's cases from its data (fault modes x phases x crash points) and draws a
 * seeded sample of them. The sample is stratified: modes take turns, so any sample at least as
 * large as the catalogue holds every mode once; a different seed draws different cases.
 */
import { seededRandom } from '#test/fakes/crashing-invocation.ts';
import { type CrashPointKind, FAULT_MODES, type FaultMode, PHASES, type Phase } from './catalogue.ts';

export interface MatrixCase {
  /** `reply:html-200|download|after`: with the seed, all it takes to run the case again. */
  readonly id: string;
  readonly mode: FaultMode;
  readonly phase: Phase;
  readonly crash: CrashPointKind;
}

const STREAMED: readonly Phase[] = ['download', 'upload', 'catalog write', 'shared album item'];

/** In-process cases: every mode x every phase x a crash before / after the phase's write, or none. */
export function inProcessCases(): MatrixCase[] {
  const cases: MatrixCase[] = [];
  for (const mode of FAULT_MODES)
    for (const phase of PHASES) {
      const crashes: CrashPointKind[] = ['none', 'before', 'after'];
      if (STREAMED.includes(phase)) crashes.push('midStream');
      for (const crash of crashes) cases.push({ id: `${mode.id}|${phase}|${crash}`, mode, phase, crash });
    }
  return cases;
}

/** Real process crashes through the CLI: every mode x SIGKILL of the process / of its group. */
export function processCases(): MatrixCase[] {
  const cases: MatrixCase[] = [];
  for (const mode of FAULT_MODES)
    for (const crash of ['sigkill-process', 'sigkill-group'] as const)
      for (const phase of ['detection page', 'download'] as const)
        cases.push({ id: `${mode.id}|${phase}|${crash}`, mode, phase, crash });
  return cases;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** `size` cases of `all` for `seed`, modes taking turns (in a seeded order). */
export function sampleCases(all: readonly MatrixCase[], size: number, seed: number): MatrixCase[] {
  const random = seededRandom(seed);
  const byMode = new Map<string, MatrixCase[]>();
  for (const c of all) byMode.set(c.mode.id, [...(byMode.get(c.mode.id) ?? []), c]);
  const queues = shuffled([...byMode.values()], random).map((group) => shuffled(group, random));
  const picked: MatrixCase[] = [];
  for (let round = 0; picked.length < size; round++) {
    let any = false;
    for (const queue of queues) {
      const next = queue[round];
      if (next === undefined) continue;
      any = true;
      picked.push(next);
      if (picked.length === size) break;
    }
    if (!any) break;
  }
  return picked;
}

/** A number from a case id and the run's seed: the case's own randomness. */
export function caseSeed(runSeed: number, id: string): number {
  let h = runSeed >>> 0 || 1;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export interface MatrixSettings {
  readonly seed: number;
  readonly inProcess: number;
  readonly process: number;
  /** Only this case (`FAULT_MATRIX_CASE`), to reproduce a failure. */
  readonly only?: string;
  /** Every case whose id holds this (`FAULT_MATRIX_MATCH='|download|midStream'`), to run a slice. */
  readonly match?: string;
  readonly full: boolean;
}

/**
 * From the environment: `npm run test:matrix` or `FAULT_MATRIX=full` (the whole run: 220 in-process and 12 process cases),
 * `FAULT_MATRIX_SEED`, `FAULT_MATRIX_CASES` / `FAULT_MATRIX_PROCESS_CASES` (sample sizes;
 * `all` = every generated case), `FAULT_MATRIX_CASE` (one id), `FAULT_MATRIX_MATCH` (every case
 * whose id holds the text). Without a seed, CI rotates: the
 * seed is the day and hour, so consecutive runs cover different cases.
 */
export function matrixSettings(env: NodeJS.ProcessEnv = process.env): MatrixSettings {
  const full = env.FAULT_MATRIX === 'full' || env.npm_lifecycle_event === 'test:matrix';
  // A mistyped knob is refused: NaN or a fraction would run another sample than the one asked for.
  const whole = (name: string, value: string, max = Number.MAX_SAFE_INTEGER) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > max)
      throw new Error(`${name} must be a whole number from 0 to ${max}, not '${value}'`);
    return n;
  };
  const seed = env.FAULT_MATRIX_SEED
    ? whole('FAULT_MATRIX_SEED', env.FAULT_MATRIX_SEED, 0xffff_ffff)
    : Math.floor(Date.now() / 3_600_000) % 100_000;
  const size = (name: string, all: number, fallback: number) => {
    const value = env[name];
    return value === 'all' ? all : value ? whole(name, value) : fallback;
  };
  return {
    seed,
    full,
    inProcess: size('FAULT_MATRIX_CASES', inProcessCases().length, full ? 220 : 12),
    process: size('FAULT_MATRIX_PROCESS_CASES', processCases().length, full ? 12 : 1),
    ...(env.FAULT_MATRIX_CASE ? { only: env.FAULT_MATRIX_CASE } : {}),
    ...(env.FAULT_MATRIX_MATCH ? { match: env.FAULT_MATRIX_MATCH } : {}),
  };
}

/** The cases a run plays: the one asked for, the slice asked for, or the seed's sample. */
export function selectCases(
  all: readonly MatrixCase[],
  settings: MatrixSettings,
  size: number,
): MatrixCase[] {
  if (settings.only) return all.filter((c) => c.id === settings.only);
  if (settings.match) return all.filter((c) => c.id.includes(settings.match as string));
  return sampleCases(all, size, settings.seed);
}
