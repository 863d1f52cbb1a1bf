/**
 * Turning a case's faults on and off in the simulator, and reading back what it did: how many
 * answers carried a fault (the request log marks each), and how many two-factor codes it pushed.
 */

import { DEFAULT_CDN_QUIRKS } from '#simulator/src/cdn/service.ts';
import type { TruthAsset } from '../local-archive.ts';
import type { ControlClient } from '../simulator.ts';
import type { FaultAction, Phase } from './catalogue.ts';

export interface ArmedFaults {
  /** Switches (quirks, clock) in force: each counts as fired once Apple was called under it. */
  readonly switches: number;
  /**
   * The ids of the mode's own faults: what the case is about. A helper fault (the 401 that makes
   * the client refresh its session, a runner's slowing delay) fires too, but says nothing of
   * whether the mode itself was ever played.
   */
  readonly ids: readonly number[];
}

/** Replaces placeholders in quirk values with names from the library (or tokens from the archive). */
function resolveQuirks(
  quirks: Record<string, unknown>,
  library: readonly TruthAsset[],
  random: () => number,
  storedTokens: readonly string[],
): Record<string, unknown> {
  const live = library.filter((a) => !a.isDeleted);
  const pick = () => live[Math.floor(random() * live.length)] as TruthAsset;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(quirks)) {
    if (Array.isArray(value) && value[0] === '$someAsset') out[key] = [pick().assetRecordName];
    else if (Array.isArray(value) && value[0] === '$someMaster') out[key] = [pick().masterRecordName];
    else if (Array.isArray(value) && value[0] === '$storedTokens') out[key] = [...storedTokens];
    else out[key] = value;
  }
  return out;
}

export async function armFaults(
  control: ControlClient,
  action: FaultAction,
  context: {
    readonly phase: Phase;
    readonly library: readonly TruthAsset[];
    readonly random: () => number;
    readonly storedTokens?: readonly string[];
  },
): Promise<ArmedFaults> {
  let switches = 0;
  const ids: number[] = [];
  if (context.phase === 'sign-in refresh') {
    // CloudKit refuses the stored cookies once: the client must refresh its session headlessly,
    // and the fault lands on that refresh (`accountLogin`).
    await control.injectFault({
      endpoint: '*',
      pathContains: '/database/1/',
      status: 401,
      body: {},
      count: 1,
    });
  }
  for (const fault of action.faults ?? []) ids.push((await control.injectFault(fault)).id);
  if (action.quirks) {
    await control.quirks(
      resolveQuirks(action.quirks, context.library, context.random, context.storedTokens ?? []),
    );
    switches += 1;
  }
  if (action.cdnQuirks) {
    await control.call('POST', '/cdn/quirks', action.cdnQuirks);
    switches += 1;
  }
  if (action.advanceDays) {
    await control.advanceClock({ advanceDays: action.advanceDays });
    switches += 1;
  }
  return { switches, ids };
}

export async function clearFaults(control: ControlClient): Promise<void> {
  await control.clearFaults();
  await control.quirks({ reset: true });
  await control.call('POST', '/cdn/quirks', DEFAULT_CDN_QUIRKS);
}

/** Answers the simulator gave with a fault since the log was last cleared (then clears it). */
export async function takeFiredFaults(control: ControlClient): Promise<number> {
  return (await takeFiredFaultIds(control)).length;
}

/** The fault id of each answer a fault changed since the log was last cleared (then clears it). */
export async function takeFiredFaultIds(control: ControlClient): Promise<number[]> {
  const { requests } = await control.call<{ requests: { fault?: number }[] }>('GET', '/requests?limit=1000');
  await control.call('DELETE', '/requests');
  return requests.flatMap((r) => (r.fault === undefined ? [] : [r.fault]));
}

/** How many of `fired` were the mode's own faults, plus its switches once Apple was called. */
export function modeFired(fired: readonly number[], armed: ArmedFaults, calledUnderFault: boolean): number {
  const own = new Set(armed.ids);
  return fired.filter((id) => own.has(id)).length + (calledUnderFault ? armed.switches : 0);
}

/** Apple calls since the log was last cleared (without clearing it). */
export async function appleCalls(control: ControlClient): Promise<number> {
  const { requests } = await control.call<{ requests: unknown[] }>('GET', '/requests?limit=1000');
  return requests.length;
}

/** Two-factor codes pushed to the owner's devices so far (the PUT trigger, S146). */
export async function pushesSoFar(control: ControlClient, appleId: string): Promise<number> {
  const { steps } = await control.call<{ steps: { step: string }[] }>(
    'GET',
    `/accounts/steps?appleId=${encodeURIComponent(appleId)}`,
  );
  return steps.filter((s) => s.step === 'push-trigger').length;
}
