/**
 * The Lambda composition root: what both Lambda entries build once per cold start from the
 * environment (config, SDK clients, the AWS adapters, the session store, logger and metrics) and
 * the dependencies of each use case. Secrets are never in the environment: the session comes
 * from Secrets Manager, by id.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import { SqsDeadLetterQueue } from '#adapters/aws/sqs-dead-letter-queue.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { albumNamesFrom, albumsOfAssetsFrom } from '#app/catalog-upkeep.ts';
import type { DetectionRunDeps } from '#app/detection-run.ts';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import type { RedriveDeps } from '#app/redrive-dead-letters.ts';
import { parseDeletePolicy } from '#domain/plan/delete-policy.ts';
import { parseVersionPolicy } from '#domain/plan/version-policy.ts';
import { loadConfig, type PipelineConfig } from '#shared/config.ts';
import { ENV } from '#shared/env-names.ts';
import { createLogger, type Logger } from '#shared/logger.ts';
import { PowertoolsMetrics } from '#shared/pipeline-metrics.ts';
import { ARCHIVE_S3_CLIENT_CONFIG, buildAwsAdapters } from './aws-adapters.ts';
import { openIcloudAdapters } from './icloud-adapters.ts';

export interface LambdaComposition {
  readonly config: PipelineConfig;
  readonly logger: Logger;
  readonly metrics: PowertoolsMetrics;
  readonly detection: DetectionRunDeps;
  readonly downloads: DownloadBatchDeps;
  /** The detector's dead-letter redrive; undefined when no dead-letter queue is named. */
  readonly redrive: RedriveDeps | undefined;
}

/** Longer than a download batch's timeout and a few schedule ticks: the work of a change is done by then. */
const ALBUM_VIEW_SETTLE_MS = 60 * 60 * 1000;

export function composeLambda(env: NodeJS.ProcessEnv, serviceName: string): LambdaComposition {
  const config = loadConfig(env);
  const logger = createLogger({ serviceName });
  const metrics = new PowertoolsMetrics(serviceName);
  const sqs = new SQSClient({});
  const aws = buildAwsAdapters(
    { s3: new S3Client({ ...ARCHIVE_S3_CLIENT_CONFIG }), dynamodb: new DynamoDBClient({}), sqs },
    {
      bucket: config.archiveBucket,
      table: config.stateTable,
      queueUrl: config.workQueueUrl,
      partSizeMiB: config.uploadPartSizeMiB,
      queueSize: config.uploadQueueSize,
    },
  );
  const store = new SecretsManagerSessionStore({
    client: new SecretsManagerClient({}),
    secretId: config.sessionSecretId,
    // Warm invocations reuse the session for a minute (a sync runs many worker invocations); a
    // save refreshes the cached copy, and a save against a newer secret version is refused (CAS).
    cacheTtlMs: 60_000,
  });
  const endpoint = resolveEndpoint(config.icloudEndpoint);
  const deletePolicy = parseDeletePolicy({
    mode: config.deletePolicy,
    maxDeleteFraction: String(config.maxDeleteFraction),
    maxDeleteCount: env[ENV.maxDeleteCount],
  });
  const icloud = async () =>
    openIcloudAdapters({ endpoint: await endpoint, store, logger, loginCommand: 'icloud-s3 login --aws' });
  return {
    config,
    logger,
    metrics,
    detection: {
      state: aws.state,
      albums: aws.albums,
      // Workers run beside the detector: a view settles once its photos' work had time to land.
      albumViews: {
        albums: aws.albums,
        state: aws.state,
        objects: aws.objects,
        settleMs: ALBUM_VIEW_SETTLE_MS,
      },
      queue: aws.queue,
      icloud,
      deletePolicy,
      versionPolicy: parseVersionPolicy(config.versionPolicy),
      reserveMs: config.deadlineReserveMs,
      logger,
      metrics,
      sharedAlbums: {
        enabled: config.sharedAlbums === 'on',
        cadenceMs: config.sharedAlbumsEveryMinutes * 60_000,
        state: aws.sharedAlbumState,
      },
      catalog: {
        state: aws.state,
        objects: aws.objects,
        logger,
        now: Date.now,
        xmpSidecars: config.xmpSidecars,
        albumNames: albumNamesFrom(aws.albums),
        albumsOfAssets: albumsOfAssetsFrom(aws.albums),
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
    downloads: {
      archive: {
        state: aws.state,
        objects: aws.objects,
        versionPolicy: parseVersionPolicy(config.versionPolicy),
        deletePolicy: deletePolicy.mode,
        now: Date.now,
      },
      icloud,
      decode: parseWorkMessage,
      logger,
      metrics,
      reserveMs: config.deadlineReserveMs,
      sharedAlbums: { state: aws.sharedAlbumState, deletePolicy, comments: true },
    },
  };
}
