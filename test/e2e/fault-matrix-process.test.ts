/**
 * The fault matrix's real process crashes: `icloud-s3 sync --local` under each fault mode, killed
 * with SIGKILL (the process alone, or its process group with the local servers it started) when
 * the simulator has seen it reach detection or the downloads; then ordinary `sync` runs, and the
 * archive must equal the library with `verify --deep` clean. Sampled like `fault-matrix.test.ts`
 * (`FAULT_MATRIX_PROCESS_CASES`, `FAULT_MATRIX_SEED`, `FAULT_MATRIX_CASE`; test/README.md).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matrixSettings, processCases, selectCases } from '#test/helpers/fault-matrix/cases.ts';
import {
  afterFaults,
  crashOnlyAfterFaults,
  MatrixFigures,
  unplayed,
} from '#test/helpers/fault-matrix/figures.ts';
import { runProcessCase } from '#test/helpers/fault-matrix/process-case.ts';

const settings = matrixSettings();
const all = processCases();
const cases = selectCases(all, settings, settings.process);
process.stdout.write(
  `fault matrix (processes): seed ${settings.seed}, ${cases.length} of ${all.length} generated cases\n`,
);

const figures = new MatrixFigures();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-fault-matrix-'));
});

afterAll(async () => {
  figures.print('processes', settings.seed);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`the fault matrix with real process crashes (seed ${settings.seed})`, () => {
  it.each(cases.map((c, i) => [c.id, c, i] as const))(
    '%s ends with exactly the library archived',
    async (_id, c, i) => {
      const result = await runProcessCase(dir, c, settings.seed, i);
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
