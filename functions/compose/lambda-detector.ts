/**
 * The change detector's composition root: detection with albums, album views, Shared Albums
 * discovery and the catalog fold, the work queue (SQS) and the dead-letter redrive. Nothing of
 * the download path.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbAlbumStore } from '#adapters/aws/dynamodb-album-store.ts';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { SqsDeadLetterQueue } from '#adapters/aws/sqs-dead-letter-queue.ts';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import { albumNamesFrom, albumsOfAssetsFrom } from '#app/catalog-upkeep.ts';
import type { DetectionRunDeps } from '#app/detection-run.ts';
import type { RedriveDeps } from '#app/redrive-dead-letters.ts';
import { composeLambdaBase, type LambdaBase } from './lambda.ts';

export interface DetectorComposition extends Pick<LambdaBase, 'logger' | 'metrics'> {
  readonly detection: DetectionRunDeps;
  /** The dead-letter redrive; undefined when no dead-letter queue is named. */
  readonly redrive: RedriveDeps | undefined;
}

/** Longer than a download batch's timeout and a few schedule ticks: the work of a change is done by then. */
const ALBUM_VIEW_SETTLE_MS = 60 * 60 * 1000;

export function composeDetector(env: NodeJS.ProcessEnv, serviceName: string): DetectorComposition {
  const { config, logger, metrics, document, objects, deletePolicy, versionPolicy, icloud } =
    composeLambdaBase(env, serviceName);
  const tableName = config.stateTable;
  const state = new DynamoDbSyncStateStore({ client: document, tableName });
  const albums = new DynamoDbAlbumStore({ client: document, tableName });
  const sqs = new SQSClient({});
  return {
    logger,
    metrics,
    detection: {
      state,
      albums,
      // Workers run beside the detector: a view settles once its photos' work had time to land.
      albumViews: { albums, state, objects, settleMs: ALBUM_VIEW_SETTLE_MS },
      queue: new SqsWorkQueue({ client: sqs, queueUrl: config.workQueueUrl }),
      icloud,
      deletePolicy,
      versionPolicy,
      reserveMs: config.deadlineReserveMs,
      logger,
      metrics,
      sharedAlbums: {
        enabled: config.sharedAlbums === 'on',
        cadenceMs: config.sharedAlbumsEveryMinutes * 60_000,
        state: new DynamoDbSharedAlbumStateStore({ client: document, tableName }),
      },
      catalog: {
        state,
        objects,
        logger,
        now: Date.now,
        xmpSidecars: config.xmpSidecars,
        albumNames: albumNamesFrom(albums),
        albumsOfAssets: albumsOfAssetsFrom(albums),
      },
    },
    redrive:
      config.deadLetterQueueUrl === undefined
        ? undefined
        : {
            deadLetters: new SqsDeadLetterQueue({
              client: sqs,
              deadLetterQueueUrl: config.deadLetterQueueUrl,
              workQueueUrl: config.workQueueUrl,
            }),
            logger,
            metrics,
            now: Date.now,
          },
  };
}
