/**
 * Peak RSS of the download worker while it archives one large video (section 3): the real
 * handler in a child process of its own, against the simulator and the local S3. Two sizes show
 * whether memory grows with the file (it must not: the body streams through bounded parts).
 */
import { fileURLToPath } from 'node:url';
import type { DownloadJob, DownloadJobResult, DownloadProgress, UploadShape } from './download-worker.ts';
import { openArchiveFixture } from './support/archive-fixture.ts';
import { ChildJobTimeout, runChildJob } from './support/child-job.ts';
import { MIB, mbPerSecond, mib, seconds } from './support/units.ts';

const WORKER = fileURLToPath(new URL('./download-worker.ts', import.meta.url));

export interface MemoryRun {
  readonly sizeMiB: number;
  /** Worker RSS with modules loaded and clients built, before the first byte. */
  readonly rssBeforeMiB: number | undefined;
  /** Highest RSS sampled every 20 ms during the archive. */
  readonly peakRssMiB: number | undefined;
  /** The kernel's high-water mark of the worker process (`resourceUsage().maxRSS`). */
  readonly maxRssMiB: number | undefined;
  readonly growthMiB: number | undefined;
  readonly seconds: number;
  readonly mbPerSecond: number;
  /** The archived object's SHA-256 is the simulator's. */
  readonly intact: boolean;
  /** The run ran out of its (load-scaled) time: seconds and MB/s are what it had moved by then. */
  readonly timedOut?: true;
}

export interface MemoryFigures {
  readonly partSizeMiB: number;
  readonly queueSize: number;
  readonly runs: readonly MemoryRun[];
}

export async function measureDownloadMemory(options: {
  readonly sizes: readonly number[];
  readonly upload: UploadShape;
  readonly seed: number;
  readonly log: (line: string) => void;
}): Promise<MemoryFigures> {
  const fixture = await openArchiveFixture({ seed: options.seed });
  const runs: MemoryRun[] = [];
  try {
    for (const size of options.sizes) {
      options.log(`memory: archiving one ${mib(size)} MiB video in a worker process`);
      const videos = await fixture.addVideos(1, size);
      const job: DownloadJob = {
        mode: 'pipeline',
        controlUrl: fixture.sim.controlUrl,
        sessionFile: fixture.sessionFile,
        aws: fixture.aws,
        upload: options.upload,
        messages: fixture.messages(videos.assets, 1),
      };
      // Generous: 2 GiB at a slow 10 MB/s, plus start-up.
      const timeoutMs = 60_000 + (size / 10e6) * 1000;
      let result: DownloadJobResult;
      try {
        result = await runChildJob<DownloadJobResult>(WORKER, job, timeoutMs);
      } catch (error) {
        if (!(error instanceof ChildJobTimeout)) throw error;
        const partial = (error.partial ?? { bytes: 0, ms: error.limitMs }) as DownloadProgress;
        options.log(`memory: ${mib(size)} MiB timed out; keeping its partial figure`);
        runs.push({
          sizeMiB: mib(size),
          rssBeforeMiB: undefined,
          peakRssMiB: undefined,
          maxRssMiB: undefined,
          growthMiB: undefined,
          seconds: seconds(partial.ms),
          mbPerSecond: mbPerSecond(partial.bytes, partial.ms),
          intact: false,
          timedOut: true,
        });
        continue;
      }
      if (result.failed !== 0 || result.bytes !== size)
        throw new Error(`the worker archived ${result.bytes} of ${size} bytes (${result.failed} failed)`);
      runs.push({
        sizeMiB: mib(size),
        rssBeforeMiB: mib(result.rss.beforeBytes),
        peakRssMiB: mib(result.rss.peakBytes),
        maxRssMiB: mib(result.rss.maxRssBytes),
        growthMiB: mib(result.rss.peakBytes - result.rss.beforeBytes),
        seconds: seconds(result.ms),
        mbPerSecond: mbPerSecond(result.bytes, result.ms),
        intact: (await fixture.mismatches(videos)) === 0,
      });
    }
  } finally {
    await fixture.stop();
  }
  return { partSizeMiB: options.upload.partSize / MIB, queueSize: options.upload.queueSize, runs };
}
