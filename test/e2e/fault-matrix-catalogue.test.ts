/**
 * The fault matrix forgets no fault mode silently: its catalogue is generated from the
 * simulator's own (reply, wire and connection modes, library and CDN quirks), and this test fails
 * when the simulator gains a switch the matrix neither runs nor names as left out with a reason.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { inProcessCases, processCases, sampleCases } from '#test/helpers/fault-matrix/cases.ts';
import {
  CDN_QUIRK_VALUES,
  CRASH_POINTS,
  FAULT_MODES,
  NOT_IN_MATRIX,
  PHASES,
  QUIRK_VALUES,
  simulatorCatalogue,
} from '#test/helpers/fault-matrix/catalogue.ts';

describe('the fault matrix catalogue', () => {
  it('holds every fault mode and switch of the simulator, or names why not', () => {
    const inMatrix = new Set(FAULT_MODES.map((m) => m.id));
    const forgotten = simulatorCatalogue().filter((id) => !inMatrix.has(id) && !(id in NOT_IN_MATRIX));
    expect(forgotten).toEqual([]);
  });

  it('has a value that turns on every quirk it runs (a new quirk without one would arm nothing)', () => {
    const values: Record<string, Readonly<Record<string, unknown>>> = {
      quirk: QUIRK_VALUES,
      'cdn-quirk': CDN_QUIRK_VALUES,
    };
    const unarmed = FAULT_MODES.filter((m) => m.family === 'quirk' || m.family === 'cdn-quirk')
      .map((m) => m.id.split(':') as [string, string])
      .filter(([family, key]) => values[family]?.[key] === undefined);
    expect(unarmed).toEqual([]);
  });

  it('runs status faults, a delay and the clock besides the named modes', () => {
    const families = new Set(FAULT_MODES.map((m) => m.family));
    expect([...families].sort()).toEqual(
      ['cdn-quirk', 'clock', 'connection', 'delay', 'quirk', 'reply', 'status', 'wire'].sort(),
    );
  });

  it('generates every mode x phase x crash point, more than 200 cases in all', () => {
    const cases = [...inProcessCases(), ...processCases()];
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    for (const mode of FAULT_MODES)
      for (const phase of PHASES)
        expect(cases.some((c) => c.mode.id === mode.id && c.phase === phase)).toBe(true);
    expect(new Set(cases.map((c) => c.crash))).toEqual(new Set(CRASH_POINTS));
  });

  it("is as large as docs/reliability.md says (the counts there are the generator's)", async () => {
    const doc = await readFile(new URL('../../docs/reliability.md', import.meta.url), 'utf8');
    const said = /That is (\d+) in-process cases and (\d+) process cases\b/.exec(doc.replace(/\s+/g, ' '));
    const modes = /\*\*Every fault mode of the simulator\*\* \((\d+) in the matrix\)/.exec(doc);
    expect({
      inProcess: Number(said?.[1]),
      process: Number(said?.[2]),
      modes: Number(modes?.[1]),
    }).toEqual({
      inProcess: inProcessCases().length,
      process: processCases().length,
      modes: FAULT_MODES.length,
    });
  });

  it('draws a sample that holds every mode once it is as large as the catalogue, and rotates by seed', () => {
    const all = inProcessCases();
    const sample = sampleCases(all, FAULT_MODES.length, 5);
    expect(new Set(sample.map((c) => c.mode.id)).size).toBe(FAULT_MODES.length);
    expect(sampleCases(all, 20, 5).map((c) => c.id)).toEqual(sampleCases(all, 20, 5).map((c) => c.id));
    expect(sampleCases(all, 20, 6).map((c) => c.id)).not.toEqual(sampleCases(all, 20, 5).map((c) => c.id));
  });
});
