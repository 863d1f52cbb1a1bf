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
 * Measured (docs/benchmarks.md): a streaming lib-storage upload peaks at about
 * 50-55 MB fixed + 1.3-1.6 x partSize per queue slot, so budget 2 x partSize x queueSize per
 * upload = 64 MB, plus ~60 MB for the runtime. If the handler works the whole batch in parallel:
 * 60 + 4 x 64 = 316 MB. 1024 MB is ~3x that, and Lambda's CPU and network share grow with memory
 * (1024 MB ~ 0.6 vCPU), which TLS in and out at tens of MB/s needs more than the RAM.
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
  }
}
