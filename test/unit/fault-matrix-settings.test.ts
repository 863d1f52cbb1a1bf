/** The fault matrix's knobs (test/README.md): a mistyped value is refused, never run as something else. */
import { describe, expect, it } from 'vitest';
import { inProcessCases, matrixSettings, selectCases } from '../helpers/fault-matrix/cases.ts';

describe('matrixSettings', () => {
  it('takes a whole seed and whole case counts, or `all`', () => {
    const settings = matrixSettings({
      FAULT_MATRIX_SEED: '40917',
      FAULT_MATRIX_CASES: '60',
      FAULT_MATRIX_PROCESS_CASES: '0',
    });
    expect(settings).toMatchObject({ seed: 40917, inProcess: 60, process: 0 });
    expect(matrixSettings({ FAULT_MATRIX_CASES: 'all' }).inProcess).toBeGreaterThan(60);
  });

  it.each([
    ['FAULT_MATRIX_SEED', 'abc'],
    ['FAULT_MATRIX_SEED', '1.5'],
    ['FAULT_MATRIX_SEED', '-3'],
    ['FAULT_MATRIX_CASES', 'twelve'],
    ['FAULT_MATRIX_CASES', '-1'],
    ['FAULT_MATRIX_PROCESS_CASES', '2.5'],
  ])('refuses %s=%s with the knob named', (name, value) => {
    expect(() => matrixSettings({ [name]: value })).toThrow(name);
  });

  it('runs the slice FAULT_MATRIX_MATCH names: every case whose id holds the text', () => {
    const all = inProcessCases();
    const slice = selectCases(all, matrixSettings({ FAULT_MATRIX_MATCH: '|download|midStream' }), 12);
    expect(slice.length).toBeGreaterThan(12);
    expect(slice.every((c) => c.phase === 'download' && c.crash === 'midStream')).toBe(true);
    expect(slice.length).toBe(all.filter((c) => c.phase === 'download' && c.crash === 'midStream').length);
  });
});
