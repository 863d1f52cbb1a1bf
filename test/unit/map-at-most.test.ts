import { describe, expect, it } from 'vitest';
import { mapAtMost } from '#shared/map-at-most.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('mapAtMost', () => {
  it('gives the results in the items’ order with at most `limit` under way', async () => {
    let running = 0;
    let most = 0;
    const results = await mapAtMost([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      for (let i = 0; i < n; i++) await tick();
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
  });

  it('after a failure starts nothing more, lets the items under way end, then rejects with the first error', async () => {
    const started: number[] = [];
    const ended: number[] = [];
    const run = mapAtMost([0, 1, 2, 3, 4], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error('item 0 failed');
      await tick();
      await tick();
      ended.push(n);
      return n;
    });
    await expect(run).rejects.toThrow('item 0 failed');
    expect(started).toEqual([0, 1]);
    expect(ended).toEqual([1]);
  });
});
