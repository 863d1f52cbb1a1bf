/**
 * Peak RSS of the download worker while it archives one large video (section 3): the real
 * handler in a child process of its own, against the simulator and the local S3. Two sizes show
 * whether memory grows with the file (it must not: the body streams through bounded parts).
 * Then one invocation whose batch is all large videos, as many as the batch runs at once: what
 * the Lambda's memory must hold (infra/download-workers.ts, `MEASURED_WORKER_MEMORY_MIB`).
 */
import { fileURLToPath } from 'node:url';
import { DEFAULT_BATCH_ITEMS } from '#app/download-batch.ts';
import type { DownloadJob, DownloadJobResult, DownloadProgress, UploadShape } from './download-worker.ts';
import type { ArchiveFixture } from './support/archive-fixture.ts';
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

/** One invocation archiving `videos` large videos at once (all its batch's item slots). */
export interface BatchMemoryRun {
  readonly videos: number;
  readonly sizeMiB: number;
  /** SQS records of the one event the videos were split over. */
  readonly messages: number;
  readonly rssBeforeMiB: number;
  readonly peakRssMiB: number;
  readonly maxRssMiB: number;
  readonly growthMiB: number;
  /** Growth per upload in flight (`growthMiB` over the videos, at most the batch's item slots). */
  readonly growthPerUploadMiB: number;
  readonly seconds: number;
  readonly intact: boolean;
}

export interface MemoryFigures {
  readonly partSizeMiB: number;
  readonly queueSize: number;
  readonly runs: readonly MemoryRun[];
  readonly batch?: BatchMemoryRun;
}

/** A batch of large videos for one invocation: `videos` of `size` bytes over `messages` records. */
export interface LargeVideoBatch {
  readonly videos: number;
  readonly size: number;
  readonly messages: number;
}

export async function measureDownloadMemory(options: {
  readonly sizes: readonly number[];
  readonly upload: UploadShape;
  /** Also measure one invocation archiving this batch of large videos at once. */
  readonly batch?: LargeVideoBatch;
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
    const batch =
      options.batch === undefined
        ? undefined
        : await measureBatchMemory(fixture, options.batch, options.upload, options.log);
    return {
      partSizeMiB: options.upload.partSize / MIB,
      queueSize: options.upload.queueSize,
      runs,
      ...(batch ? { batch } : {}),
    };
  } finally {
    await fixture.stop();
  }
}

/**
 * Peak RSS of one invocation whose batch is all large videos: the videos split over the records
 * of one SQS event, so they share the batch's item slots as in a Lambda fed a batch from a
 * video-heavy stretch of the library (each record's items run a few at once; the slots bound
 * the sum).
 */
export async function measureBatchMemory(
  fixture: ArchiveFixture,
  batch: LargeVideoBatch,
  upload: UploadShape,
  log: (line: string) => void,
): Promise<BatchMemoryRun> {
  log(`memory: archiving ${batch.videos} x ${mib(batch.size)} MiB videos in one invocation`);
  const videos = await fixture.addVideos(batch.videos, batch.size);
  const job: DownloadJob = {
    mode: 'pipeline',
    controlUrl: fixture.sim.controlUrl,
    sessionFile: fixture.sessionFile,
    aws: fixture.aws,
    upload,
    messages: fixture.messages(videos.assets, Math.ceil(batch.videos / batch.messages)),
    oneBatch: true,
  };
  const total = batch.videos * batch.size;
  // Generous, as for one video: the whole batch at a slow 10 MB/s, plus start-up.
  const result = await runChildJob<DownloadJobResult>(WORKER, job, 60_000 + (total / 10e6) * 1000);
  if (result.failed !== 0 || result.bytes !== total)
    throw new Error(`the worker archived ${result.bytes} of ${total} bytes (${result.failed} failed)`);
  const growth = result.rss.peakBytes - result.rss.beforeBytes;
  return {
    videos: batch.videos,
    sizeMiB: mib(batch.size),
    messages: job.messages.length,
    rssBeforeMiB: mib(result.rss.beforeBytes),
    peakRssMiB: mib(result.rss.peakBytes),
    maxRssMiB: mib(result.rss.maxRssBytes),
    growthMiB: mib(growth),
    growthPerUploadMiB: mib(growth / Math.min(batch.videos, DEFAULT_BATCH_ITEMS)),
    seconds: seconds(result.ms),
    intact: (await fixture.mismatches(videos)) === 0,
  };
}
