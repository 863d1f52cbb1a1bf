/** A fault storm can be played again: `probability` draws from a generator seeded by the simulator's seed. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '#simulator/src/faults/seeded-random.ts';

describe('the fault draws', () => {
  it('repeat for a seed, differ between seeds, and stay in [0, 1) near the asked rate', () => {
    const draws = (seed: number) => Array.from({ length: 2000 }, seededRandom(seed));
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    const sample = draws(7);
    expect(sample.every((x) => x >= 0 && x < 1)).toBe(true);
    const rate = sample.filter((x) => x < 0.3).length / sample.length;
    expect(rate).toBeGreaterThan(0.27);
    expect(rate).toBeLessThan(0.33);
  });
});
