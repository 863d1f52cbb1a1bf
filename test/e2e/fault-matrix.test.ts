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
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { inProcessCases, matrixSettings, sampleCases } from '#test/helpers/fault-matrix/cases.ts';
import { MatrixFigures } from '#test/helpers/fault-matrix/figures.ts';
import { type MatrixWorld, runInProcessCase, truthOf } from '#test/helpers/fault-matrix/in-process-case.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const settings = matrixSettings();
const all = inProcessCases();
const cases = settings.only
  ? all.filter((c) => c.id === settings.only)
  : sampleCases(all, settings.inProcess, settings.seed);
process.stdout.write(
  `fault matrix (in process): seed ${settings.seed}, ${cases.length} of ${all.length} generated cases` +
    ` (rerun: FAULT_MATRIX_SEED=${settings.seed} FAULT_MATRIX_CASES=${cases.length})\n`,
);

const figures = new MatrixFigures();
let world: MatrixWorld;

beforeAll(async () => {
  const sim = await startTestSimulator({ assets: 10, seed: 7 });
  const control = controlClient(sim);
  // Sign-ins by a person and headless SRP refreshes add up over hundreds of cases: lift the
  // simulator's per-hour limits (the cases count pushes themselves).
  await control.settings({ srpLimit: 100_000, maxPushes: 100_000 });
  const dir = await mkdtemp(join(tmpdir(), 'icloud-s3-fault-matrix-'));
  const baseSession = join(dir, 'base-session.json');
  await signInToSimulator(sim, baseSession, { rememberPassword: true });
  // A photo also in the Shared Library: one master in two zones.
  const own = (await truthOf(control)).find((a) => !a.isDeleted && a.mediaType === 'photo');
  if (own) await control.mutate({ op: 'share', assetRecordName: own.assetRecordName });
  world = { sim, control, dir, endpoint: await resolveEndpoint(sim.controlUrl), baseSession };
});

afterAll(async () => {
  figures.print('in process', settings.seed);
  await world?.sim.stop();
  if (world?.dir) await rm(world.dir, { recursive: true, force: true });
});

describe(`the fault matrix in process (seed ${settings.seed})`, () => {
  it.each(cases.map((c, i) => [c.id, c, i] as const))(
    '%s ends with exactly the library archived',
    async (_id, c, i) => {
      const result = await runInProcessCase(world, c, settings.seed, i);
      figures.add(result);
      expect({ id: result.id, seed: result.seed, problems: result.problems }).toEqual({
        id: c.id,
        seed: result.seed,
        problems: [],
      });
      expect({ lost: result.lost, duplicated: result.duplicated, corrupted: result.corrupted }).toEqual({
        lost: 0,
        duplicated: 0,
        corrupted: 0,
      });
      expect(result.unattendedPushes).toBe(0);
    },
  );
});
