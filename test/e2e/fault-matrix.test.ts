/**
 * The fault matrix, in process: every fault mode of the simulator x every pipeline phase x a
 * crash at the phase's durable write (before it, after it, part-way through a stream, or none),
 * generated from data (test/helpers/fault-matrix/). `npm test` runs a seeded sample that rotates
 * by the hour; `npm run test:matrix` the full run (see test/README.md). Each case must end in an
 * archive that equals the library: nothing lost, duplicated or corrupted, a deep verify clean,
 * no two-factor code pushed while no one was there. A failing case reruns alone with
 * `FAULT_MATRIX_SEED=<seed> FAULT_MATRIX_CASE='<id>'`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessCases, matrixSettings, selectCases } from '#test/helpers/fault-matrix/cases.ts';
import {
  afterFaults,
  crashOnlyAfterFaults,
  MatrixFigures,
  unplayed,
} from '#test/helpers/fault-matrix/figures.ts';
import { runInProcessCase } from '#test/helpers/fault-matrix/in-process-case.ts';

const settings = matrixSettings();
const all = inProcessCases();
const cases = selectCases(all, settings, settings.inProcess);
process.stdout.write(
  `fault matrix (in process): seed ${settings.seed}, ${cases.length} of ${all.length} generated cases` +
    ` (rerun: FAULT_MATRIX_SEED=${settings.seed} ${settings.match ? `FAULT_MATRIX_MATCH='${settings.match}'` : `FAULT_MATRIX_CASES=${cases.length}`})\n`,
);

const figures = new MatrixFigures();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-fault-matrix-'));
});

afterAll(async () => {
  figures.print('in process', settings.seed);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`the fault matrix in process (seed ${settings.seed})`, () => {
  it.each(cases.map((c, i) => [c.id, c, i] as const))(
    '%s ends with exactly the library archived',
    async (_id, c, i) => {
      const result = await runInProcessCase(dir, c, settings.seed, i);
      figures.add(result);
      // A case whose fault never fired (or whose crash never happened) passes without testing
      // what it names: said at once, and summed in the figures.
      const missed = unplayed(result);
      if (missed.length > 0)
        process.stdout.write(`NOT FIRED ${c.id} (run seed ${settings.seed}): ${missed.join(', ')}\n`);
      if (crashOnlyAfterFaults(result))
        process.stdout.write(
          `CRASH AFTER FAULTS ${c.id} (run seed ${settings.seed}): ${afterFaults(result)}\n`,
        );
      // A known finding keeps every promise but the one it breaks (docs/reliability.md).
      if (result.knownFinding === undefined) {
        expect({ id: result.id, seed: result.seed, problems: result.problems }).toEqual({
          id: c.id,
          seed: result.seed,
          problems: [],
        });
        expect(result.lost).toBe(0);
      }
      expect({ duplicated: result.duplicated, corrupted: result.corrupted }).toEqual({
        duplicated: 0,
        corrupted: 0,
      });
      expect(result.unattendedPushes).toBe(0);
    },
  );
});
