/**
 * The change detector's composition root: detection with albums, album views, Shared Albums
 * discovery and the catalog fold, the work queue (SQS) and the dead-letter redrive. Nothing of
 * the download path.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbAlbumStore } from '#adapters/aws/dynamodb-album-store.ts';
import { DynamoDbDetectionStateStore } from '#adapters/aws/dynamodb-detection-state-store.ts';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { S3ObjectStoreWithoutStreaming } from '#adapters/aws/s3-object-store-without-streaming.ts';
import { SqsDeadLetterQueue } from '#adapters/aws/sqs-dead-letter-queue.ts';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { storedSignInLatch } from '#adapters/icloud/session/stored-latch.ts';
import type { DetectionRunDeps } from '#app/detection-run.ts';
import type { RedriveDeps } from '#app/redrive-dead-letters.ts';
import { detectorRunDeps } from './detector-deps.ts';
import { openIcloudLibrary } from './icloud-adapters.ts';
import { composeLambdaBase, type LambdaBase } from './lambda.ts';

export interface DetectorComposition extends Pick<LambdaBase, 'logger' | 'metrics' | 'awsClients'> {
  readonly detection: DetectionRunDeps;
  /** The dead-letter redrive; undefined when no dead-letter queue is named. */
  readonly redrive: RedriveDeps | undefined;
}

export function composeDetector(env: NodeJS.ProcessEnv, serviceName: string): DetectorComposition {
  const { config, logger, metrics, document, s3, deletePolicy, versionPolicy, icloudOptions, awsClients } =
    composeLambdaBase(env, serviceName);
  // It writes only documents it holds (album views, catalog shards): no streamed puts.
  const objects = new S3ObjectStoreWithoutStreaming({
    client: s3,
    bucket: config.archiveBucket,
    ...(config.archiveStorageClass === undefined ? {} : { storageClass: config.archiveStorageClass }),
  });
  const tableName = config.stateTable;
  // The state table's detection part alone: no claims, master users or counts.
  const state = new DynamoDbDetectionStateStore({ client: document, tableName });
  const sqs = new SQSClient({});
  return {
    logger,
    metrics,
    awsClients: [...awsClients, sqs],
    detection: detectorRunDeps(
      {
        state,
        albums: new DynamoDbAlbumStore({ client: document, tableName }),
        objects,
        queue: new SqsWorkQueue({ client: sqs, queueUrl: config.workQueueUrl }),
        sharedAlbumState: new DynamoDbSharedAlbumStateStore({ client: document, tableName }),
        icloud: async () => openIcloudLibrary(await icloudOptions()),
      },
      {
        deletePolicy,
        versionPolicy,
        reserveMs: config.deadlineReserveMs,
        sharedAlbums: {
          enabled: config.sharedAlbums === 'on',
          cadenceMs: config.sharedAlbumsEveryMinutes * 60_000,
        },
        xmpSidecars: config.xmpSidecars,
        logger,
        metrics,
        now: Date.now,
      },
    ),
    redrive:
      config.deadLetterQueueUrl === undefined
        ? undefined
        : {
            deadLetters: new SqsDeadLetterQueue({
              client: sqs,
              deadLetterQueueUrl: config.deadLetterQueueUrl,
              workQueueUrl: config.workQueueUrl,
            }),
            // Given-up work goes to the failed photos' retry list, before SQS would delete it.
            retries: state,
            decode: parseWorkMessage,
            logger,
            metrics,
            now: Date.now,
            // Latched: the dead letters wait for the login, their redrives unspent.
            signInLatched: async () => (await storedSignInLatch((await icloudOptions()).store)) !== undefined,
          },
  };
}
