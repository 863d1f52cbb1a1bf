/**
 * The draws behind a fault's `probability`: mulberry32, seeded from the simulator's seed, so the
 * same seed and the same order of requests fire the same faults (a fault storm that found a bug
 * can be played again).
 */
export function seededRandom(seed: number): () => number {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
