/**
 * The download workers' composition root: the archive use case over the state table and the
 * bucket, the work-message codec and Shared Albums' item work. No SQS client (the event source
 * mapping reads and deletes the messages), no detection, albums or catalog.
 */
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import { composeLambdaBase, type LambdaBase } from './lambda.ts';

export interface DownloaderComposition extends Pick<LambdaBase, 'logger' | 'metrics'> {
  readonly downloads: DownloadBatchDeps;
}

export function composeDownloader(env: NodeJS.ProcessEnv, serviceName: string): DownloaderComposition {
  const { config, logger, metrics, document, objects, deletePolicy, versionPolicy, icloud } =
    composeLambdaBase(env, serviceName);
  const tableName = config.stateTable;
  return {
    logger,
    metrics,
    downloads: {
      archive: {
        state: new DynamoDbSyncStateStore({ client: document, tableName }),
        objects,
        versionPolicy,
        deletePolicy: deletePolicy.mode,
        now: Date.now,
      },
      icloud,
      decode: parseWorkMessage,
      logger,
      metrics,
      reserveMs: config.deadlineReserveMs,
      sharedAlbums: {
        state: new DynamoDbSharedAlbumStateStore({ client: document, tableName }),
        deletePolicy,
        comments: true,
      },
    },
  };
}
