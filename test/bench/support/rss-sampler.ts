/**
 * Peak resident memory of this process during a piece of work: `process.memoryUsage.rss()` every
 * 20 ms, beside the kernel's high-water mark (`process.resourceUsage().maxRSS`, which also covers
 * moments between samples but never resets).
 */
const INTERVAL_MS = 20;

export interface RssFigures {
  /** RSS just before the work started. */
  readonly beforeBytes: number;
  /** Highest sampled RSS during the work. */
  readonly peakBytes: number;
  /** The kernel's high-water mark for the whole process life, read after the work. */
  readonly maxRssBytes: number;
  readonly samples: number;
}

/** Runs `work` while sampling RSS; returns its result with the figures. */
export async function withRssSampling<T>(work: () => Promise<T>): Promise<{ value: T; rss: RssFigures }> {
  const beforeBytes = process.memoryUsage.rss();
  let peakBytes = beforeBytes;
  let samples = 0;
  const timer = setInterval(() => {
    samples++;
    peakBytes = Math.max(peakBytes, process.memoryUsage.rss());
  }, INTERVAL_MS);
  try {
    const value = await work();
    peakBytes = Math.max(peakBytes, process.memoryUsage.rss());
    return {
      value,
      rss: { beforeBytes, peakBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024, samples },
    };
  } finally {
    clearInterval(timer);
  }
}
