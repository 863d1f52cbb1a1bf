/**
 * The download workers' composition root: the archive use case over the state table and the
 * bucket, the work-message codec and Shared Albums' item work. No SQS client (the event source
 * mapping reads and deletes the messages), no detection, albums or catalog.
 */
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbArchiveStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { S3ArchivingObjectStore } from '#adapters/aws/s3-object-store.ts';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import { downloaderBatchDeps } from './downloader-deps.ts';
import { openIcloudDownloads } from './icloud-adapters.ts';
import { composeLambdaBase, type LambdaBase } from './lambda.ts';

export interface DownloaderComposition extends Pick<LambdaBase, 'logger' | 'metrics' | 'awsClients'> {
  readonly downloads: DownloadBatchDeps;
}

export function composeDownloader(env: NodeJS.ProcessEnv, serviceName: string): DownloaderComposition {
  const { config, logger, metrics, document, s3, deletePolicy, versionPolicy, icloudOptions, awsClients } =
    composeLambdaBase(env, serviceName);
  // Heads, puts and deletes alone: no listing or reading back (GetObject, ListObjectsV2).
  const objects = new S3ArchivingObjectStore({
    client: s3,
    bucket: config.archiveBucket,
    partSize: config.uploadPartSizeMiB * 1024 * 1024,
    queueSize: config.uploadQueueSize,
  });
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
      },
      { deletePolicy, versionPolicy, reserveMs: config.deadlineReserveMs, logger, metrics, now: Date.now },
    ),
  };
}
