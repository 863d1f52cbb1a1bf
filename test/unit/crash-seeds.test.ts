import { describe, expect, it } from 'vitest';
import { crashSeeds } from '#test/helpers/crash-seeds.ts';

describe('the crash tests seed knob', () => {
  it('without settings draws the seeds CI has always run (1-24, 101-110)', () => {
    const seeds = crashSeeds({});
    expect(seeds.firstSync).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(seeds.incremental).toEqual(Array.from({ length: 10 }, (_, i) => i + 101));
    expect(seeds.chosen).toBe(false);
  });

  it('with CRASH_SEED and the counts draws new seeds and prints the line that draws them again', () => {
    const seeds = crashSeeds({ CRASH_SEED: '40000', CRASH_CASES: '3', CRASH_INCREMENTAL_CASES: '2' });
    expect(seeds.firstSync).toEqual([40000, 40001, 40002]);
    expect(seeds.incremental).toEqual([40100, 40101]);
    expect(seeds.chosen).toBe(true);
    expect(seeds.rerun).toBe('CRASH_SEED=40000 CRASH_CASES=3 CRASH_INCREMENTAL_CASES=2');
    expect(crashSeeds({ CRASH_SEED: '40000', CRASH_CASES: '3', CRASH_INCREMENTAL_CASES: '2' })).toEqual(
      seeds,
    );
  });

  it('refuses a seed or a count that is not a whole number, rather than running something else', () => {
    expect(() => crashSeeds({ CRASH_SEED: 'abc' })).toThrow(/CRASH_SEED/);
    expect(() => crashSeeds({ CRASH_SEED: '1.5' })).toThrow(/CRASH_SEED/);
    expect(() => crashSeeds({ CRASH_SEED: '-1' })).toThrow(/CRASH_SEED/);
    expect(() => crashSeeds({ CRASH_CASES: 'all' })).toThrow(/CRASH_CASES/);
    expect(() => crashSeeds({ CRASH_INCREMENTAL_CASES: '-2' })).toThrow(/CRASH_INCREMENTAL_CASES/);
  });
});
