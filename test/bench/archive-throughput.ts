/**
 * Archive throughput against raw streams of the same bytes on loopback (section 2). For each
 * concurrency, the same videos are read five ways, each in a fresh worker process: plain
 * `http.get` drained, `fetch` drained, `http.get` piped straight into lib-storage, the same plus
 * the same-key metadata copy `S3ObjectStore` makes, and the real download handler (CDN ->
 * integrity check -> S3ObjectStore -> local S3, manifest in DynamoDB).
 */
import { fileURLToPath } from 'node:url';
import type { DownloadJob, DownloadJobResult, DownloadProgress, UploadShape } from './download-worker.ts';
import { openArchiveFixture } from './support/archive-fixture.ts';
import { ChildJobTimeout, runChildJob } from './support/child-job.ts';
import { mbPerSecond, mib, seconds } from './support/units.ts';

const WORKER = fileURLToPath(new URL('./download-worker.ts', import.meta.url));

export type TransferMode = 'raw-get' | 'raw-fetch' | 'raw-s3' | 'raw-s3-copy' | 'pipeline';

export interface TransferFigure {
  readonly mode: TransferMode;
  readonly streams: number;
  readonly mib: number;
  readonly seconds: number;
  readonly mbPerSecond: number;
  readonly peakRssMiB: number | undefined;
  /** CPU seconds the worker spent per GB moved. */
  readonly cpuSecondsPerGb: number | undefined;
  /** The row ran out of its (load-scaled) time: the figures are what it had moved by then. */
  readonly timedOut?: true;
}

export interface ThroughputRow {
  readonly streams: number;
  readonly files: number;
  readonly fileMiB: number;
  readonly transfers: readonly TransferFigure[];
  /** Pipeline MB/s divided by raw `http.get` MB/s of the same bytes. */
  readonly ratioToRawGet: number;
  /** Pipeline MB/s divided by `http.get` -> lib-storage MB/s (same S3, no pipeline). */
  readonly ratioToRawS3: number;
  /** The same against the raw upload followed by the pipeline's metadata copy. */
  readonly ratioToRawS3Copy: number;
  /** Every archived original's SHA-256 is the simulator's. */
  readonly intact: boolean;
}

const MODES: readonly TransferMode[] = ['raw-get', 'raw-fetch', 'raw-s3', 'raw-s3-copy', 'pipeline'];

export async function measureArchiveThroughput(options: {
  readonly files: number;
  readonly fileBytes: number;
  readonly streams: readonly number[];
  readonly upload: UploadShape;
  readonly seed: number;
  readonly log: (line: string) => void;
}): Promise<ThroughputRow[]> {
  const fixture = await openArchiveFixture({ seed: options.seed });
  const rows: ThroughputRow[] = [];
  try {
    for (const streams of options.streams) {
      // New videos per row: the pipeline skips what it has archived already.
      const videos = await fixture.addVideos(options.files, options.fileBytes);
      const urls = fixture.originalUrls(videos.assets);
      const transfers: TransferFigure[] = [];
      for (const mode of MODES) {
        options.log(`throughput: ${mib(videos.bytes)} MiB by ${mode}, ${streams} stream(s)`);
        const job: DownloadJob =
          mode === 'pipeline'
            ? {
                mode,
                controlUrl: fixture.sim.controlUrl,
                sessionFile: fixture.sessionFile,
                aws: fixture.aws,
                upload: options.upload,
                messages: fixture.messages(videos.assets, Math.ceil(videos.assets.length / streams)),
              }
            : mode === 'raw-s3' || mode === 'raw-s3-copy'
              ? { mode, urls, streams, aws: fixture.aws, upload: options.upload }
              : { mode, urls, streams };
        const timeoutMs = 60_000 + (videos.bytes / 5e6) * 1000;
        let result: DownloadJobResult;
        try {
          result = await runChildJob<DownloadJobResult>(WORKER, job, timeoutMs);
        } catch (error) {
          if (!(error instanceof ChildJobTimeout)) throw error;
          const partial = (error.partial ?? { bytes: 0, ms: error.limitMs }) as DownloadProgress;
          options.log(`throughput: ${mode} timed out; keeping its partial figure`);
          transfers.push({
            mode,
            streams,
            mib: mib(partial.bytes),
            seconds: seconds(partial.ms),
            mbPerSecond: mbPerSecond(partial.bytes, partial.ms),
            peakRssMiB: undefined,
            cpuSecondsPerGb: undefined,
            timedOut: true,
          });
          continue;
        }
        if (result.bytes !== videos.bytes || (result.failed ?? 0) > 0)
          throw new Error(
            `${mode} moved ${result.bytes} of ${videos.bytes} bytes (${result.failed ?? 0} failed)`,
          );
        transfers.push({
          mode,
          streams,
          mib: mib(result.bytes),
          seconds: seconds(result.ms),
          mbPerSecond: mbPerSecond(result.bytes, result.ms),
          peakRssMiB: mib(result.rss.peakBytes),
          cpuSecondsPerGb: Math.round((result.cpuMs / 1000 / (result.bytes / 1e9)) * 10) / 10,
        });
      }
      const rate = (mode: TransferMode) => transfers.find((t) => t.mode === mode)?.mbPerSecond ?? 0;
      const ratio = (base: TransferMode) =>
        rate(base) > 0 ? Math.round((rate('pipeline') / rate(base)) * 100) / 100 : 0;
      rows.push({
        streams,
        files: options.files,
        fileMiB: mib(options.fileBytes),
        transfers,
        ratioToRawGet: ratio('raw-get'),
        ratioToRawS3: ratio('raw-s3'),
        ratioToRawS3Copy: ratio('raw-s3-copy'),
        intact: (await fixture.mismatches(videos)) === 0 && transfers.every((t) => !t.timedOut),
      });
    }
  } finally {
    await fixture.stop();
  }
  return rows;
}
