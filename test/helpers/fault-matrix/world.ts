/**
 * A case's own simulator: each case starts one (same library seed), signs in once as a person
 * would (password remembered) and stops it at the end, so a case depends on nothing another case
 * did (the simulated clock, the order of seeded fault draws) and reruns alone exactly.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type IcloudEndpoint, resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { signInToSimulator } from '../icloud-login.ts';
import type { TruthAsset } from '../local-archive.ts';
import { type ControlClient, controlClient, startTestSimulator } from '../simulator.ts';

export interface MatrixWorld {
  readonly sim: SimulatorHandle;
  readonly control: ControlClient;
  /** The case's folder. */
  readonly dir: string;
  readonly endpoint: IcloudEndpoint;
  /** The session a person signed in (password remembered). */
  readonly sessionFile: string;
}

export async function truthOf(control: ControlClient): Promise<TruthAsset[]> {
  return (await control.library<{ assets: TruthAsset[] }>()).assets;
}

export async function openWorld(
  dir: string,
  options: { readonly assets: number; readonly seed: number },
): Promise<MatrixWorld> {
  await mkdir(dir, { recursive: true });
  const sim = await startTestSimulator(options);
  try {
    const control = controlClient(sim);
    // People sign in again in some cases, and headless SRP refreshes add up: lift the per-hour
    // limits (the cases count two-factor pushes themselves).
    await control.settings({ srpLimit: 100_000, maxPushes: 100_000 });
    // A photo also in the Shared Library: one master in two zones.
    const own = (await truthOf(control)).find((a) => !a.isDeleted && a.mediaType === 'photo');
    if (own) await control.mutate({ op: 'share', assetRecordName: own.assetRecordName });
    const sessionFile = join(dir, 'session.json');
    await signInToSimulator(sim, sessionFile, { rememberPassword: true });
    return { sim, control, dir, endpoint: await resolveEndpoint(sim.controlUrl), sessionFile };
  } catch (error) {
    await sim.stop();
    throw error;
  }
}
