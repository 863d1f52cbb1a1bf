/**
 * The download workers' composition root: the archive use case over the state table and the
 * bucket, the work-message codec and Shared Albums' item work. The event source mapping reads and
 * deletes the messages; the one SQS client, which sends paused long videos on in a new message, is
 * built on that path alone (work-continuation-sqs.ts, loaded lazily). No detection, albums or catalog.
 */

import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbArchiveStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import type { PipelineConfig } from '#shared/config.ts';
import { METRICS } from '#shared/env-names.ts';
import type { Logger } from '#shared/logger.ts';
import type { PipelineMetrics } from '#shared/pipeline-metrics.ts';
import { downloaderBatchDeps } from './downloader-deps.ts';
import { openIcloudDownloads } from './icloud-adapters.ts';
import { type AwsSdkClient, composeLambdaBase, type LambdaBase } from './lambda.ts';
import { workQueueOnFirstUse } from './on-first-use.ts';

export interface DownloaderComposition extends Pick<LambdaBase, 'logger' | 'metrics' | 'awsClients'> {
  readonly downloads: DownloadBatchDeps;
}

/** Where a worker tells the owner that the bucket has Object Lock the stack was not told of. */
export interface ObjectLockReport {
  readonly logger: Pick<Logger, 'warn'>;
  readonly metrics: PipelineMetrics;
}

/**
 * The download workers' archive: heads, puts and deletes alone, no listing or reading back
 * (GetObject, ListObjectsV2); every multipart part with a checksum when the bucket has Object Lock,
 * as the stack says (`ARCHIVE_OBJECT_LOCK`) or as S3's first refusal of a part teaches the store
 * (reported once per process through `report`).
 */
export function archivingObjectStore(
  s3: S3Client,
  config: Pick<
    PipelineConfig,
    'archiveBucket' | 'uploadPartSizeMiB' | 'uploadQueueSize' | 'archiveObjectLock' | 'archiveStorageClass'
  >,
  report?: ObjectLockReport,
): S3ArchivingObjectStore {
  return new S3ArchivingObjectStore({
    client: s3,
    bucket: config.archiveBucket,
    partSize: config.uploadPartSizeMiB * 1024 * 1024,
    queueSize: config.uploadQueueSize,
    checksumParts: config.archiveObjectLock,
    ...(config.archiveStorageClass === undefined ? {} : { storageClass: config.archiveStorageClass }),
    ...(report && {
      onObjectLockLearnt: () => {
        report.metrics.add(METRICS.objectLockUndeclared, 1);
        report.logger.warn('archive bucket has Object Lock the stack was not told of', {
          bucket: config.archiveBucket,
          action:
            'none needed: this worker now sends a CRC32 with every part and retries the refused video; docs/deploy.md, Object Lock',
        });
      },
    }),
  });
}

export interface DownloaderOptions {
  /**
   * Told each SDK client built after the composition (the continuation's SQS client, on the first
   * pause): test/e2e/iam-covers-every-call.test.ts records its calls as `awsClients`' are.
   */
  readonly onAwsClient?: (client: AwsSdkClient) => void;
}

export function composeDownloader(
  env: NodeJS.ProcessEnv,
  serviceName: string,
  options: DownloaderOptions = {},
): DownloaderComposition {
  const { config, logger, metrics, document, s3, deletePolicy, versionPolicy, icloudOptions, awsClients } =
    composeLambdaBase(env, serviceName);
  const objects = archivingObjectStore(s3, config, { logger, metrics });
  const tableName = config.stateTable;
  return {
    logger,
    metrics,
    awsClients,
    downloads: downloaderBatchDeps(
      {
        // The state table's archive part alone: no tokens, zones, locks or enumeration stamps.
        state: new DynamoDbArchiveStateStore({ client: document, tableName }),
        objects,
        sharedAlbumState: new DynamoDbSharedAlbumStateStore({ client: document, tableName }),
        icloud: async () => openIcloudDownloads(await icloudOptions()),
        continuation: workQueueOnFirstUse(async () =>
          (await import('./work-continuation-sqs.ts')).sqsContinuation(
            config.workQueueUrl,
            options.onAwsClient,
          ),
        ),
      },
      {
        deletePolicy,
        versionPolicy,
        liveVideoName: config.liveVideoName,
        reserveMs: config.deadlineReserveMs,
        logger,
        metrics,
        now: Date.now,
        resumableFromBytes: config.resumableFromMiB * 1024 * 1024,
      },
    ),
  };
}
