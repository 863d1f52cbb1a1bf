import { Duration } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, SERVICE_NAMES } from '../functions/shared/env-names.ts';
import type { InfraConfig } from './config.ts';
import { type FunctionSource, PipelineFunction, setSyncSettings } from './pipeline-function.ts';

/** Multipart shape of each streamed upload (lib-storage `partSize` in MiB, `queueSize`). */
export const UPLOAD_PART_SIZE_MIB = 8;
export const UPLOAD_QUEUE_SIZE = 4;
/** Records per invocation. Small: one record can be a multi-GB video. */
export const DOWNLOAD_BATCH_SIZE = 4;
/** Lets a burst of enqueued work fill a batch instead of starting one invocation per message. */
export const DOWNLOAD_BATCHING_WINDOW = Duration.seconds(10);
/**
 * A 4 GB video from Apple's CDN at a conservative 10 MB/s takes ~7 minutes; 15 minutes (Lambda's
 * maximum) leaves room for a slow CDN node and for the other records of the batch.
 */
export const DOWNLOAD_TIMEOUT = Duration.minutes(15);
/**
 * The worker's memory, measured (docs/benchmarks.md section 3): one invocation archiving as many
 * large videos at once as its batch has item slots (8 x 256 MiB over 4 records, 8 MiB parts x
 * queue 4, Node 20 and 22, fast and throttled S3). `beforeFirstByteMiB`: RSS with modules loaded
 * and clients built; `perUploadMiB`: peak RSS growth per multipart upload in flight, about
 * (queueSize + 2) x partSize (the parts in flight, the part being gathered, lib-storage's copy
 * of it) plus stream buffers. Rounded up from the highest runs (138 MiB; 433 MiB / 8 = 54 MiB).
 * Valid for the upload shape it was measured at: another part or queue size means measuring again.
 */
export const MEASURED_WORKER_MEMORY_MIB = {
  partSizeMiB: 8,
  queueSize: 4,
  beforeFirstByteMiB: 140,
  perUploadMiB: 55,
} as const;
/**
 * Whatever the batch holds, its items in flight are bounded (`DEFAULT_BATCH_ITEMS`, 8), so the
 * worst batch is that many large videos at once: 140 + 8 x 55 = 580 MiB, measured 500-553 MiB.
 * 1024 MB leaves room for Lambda's runtime and GC lag, and Lambda's CPU and network share grow with
 * memory (1024 MB ~ 0.6 vCPU), which TLS in and out at tens of MB/s needs more than the RAM.
 */
export const DOWNLOAD_MEMORY_MB = 1024;
/** Kept back from the deadline to abort an unfinished multipart upload and report the record. */
export const DOWNLOAD_DEADLINE_RESERVE_MS = 60_000;

export interface DownloadWorkersProps {
  readonly source: FunctionSource;
  readonly config: InfraConfig;
  readonly logRetention: RetentionDays;
}

/**
 * Streams each queued asset version from Apple's CDN into the archive bucket. Fed by the work
 * queue (wired by the stack, which owns both), at most `downloadConcurrency` at once so Apple
 * is never hammered.
 */
export class DownloadWorkers extends Construct {
  readonly fn: PipelineFunction;

  constructor(scope: Construct, id: string, props: DownloadWorkersProps) {
    super(scope, id);
    const { config } = props;
    this.fn = new PipelineFunction(this, 'Worker', {
      source: props.source,
      description: `icloud-s3 ${config.stackName}: stream queued iCloud Photos assets into S3`,
      timeout: DOWNLOAD_TIMEOUT,
      memorySize: DOWNLOAD_MEMORY_MB,
      logRetention: props.logRetention,
      serviceName: SERVICE_NAMES.downloadAssets,
    });
    setSyncSettings(this.fn, config);
    this.fn.addEnvironment(ENV.uploadPartSizeMiB, String(UPLOAD_PART_SIZE_MIB));
    this.fn.addEnvironment(ENV.uploadQueueSize, String(UPLOAD_QUEUE_SIZE));
    this.fn.addEnvironment(ENV.deadlineReserveMs, String(DOWNLOAD_DEADLINE_RESERVE_MS));
    // A default retention makes S3 refuse a multipart part without a checksum (docs/deploy.md).
    if (config.objectLockMode !== 'none') this.fn.addEnvironment(ENV.archiveObjectLock, 'true');
  }
}
