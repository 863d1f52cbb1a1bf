/**
 * What both Lambda entries build once per cold start from the environment: config, SDK clients,
 * the AWS adapters, the session store, the logger and metrics. Secrets are never in the
 * environment: the session comes from Secrets Manager, by id.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { parseDeletePolicy } from '#domain/plan/delete-policy.ts';
import { parseVersionPolicy } from '#domain/plan/version-policy.ts';
import { loadConfig, type PipelineConfig } from '#shared/config.ts';
import { ENV } from '#shared/env-names.ts';
import { createLogger, type Logger } from '#shared/logger.ts';
import { type AwsAdapters, buildAwsAdapters } from './aws-adapters.ts';
import { type IcloudAdapters, openIcloudAdapters } from './icloud-adapters.ts';
import { type PipelineMetrics, powertoolsMetrics } from './pipeline-metrics.ts';

export interface LambdaEnvironment {
  readonly config: PipelineConfig;
  readonly aws: AwsAdapters;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly deletePolicy: ReturnType<typeof parseDeletePolicy>;
  readonly versionPolicy: ReturnType<typeof parseVersionPolicy>;
  readonly icloud: () => Promise<IcloudAdapters>;
}

export function lambdaEnvironment(env: NodeJS.ProcessEnv, serviceName: string): LambdaEnvironment {
  const config = loadConfig(env);
  const logger = createLogger({ serviceName });
  const aws = buildAwsAdapters(
    { s3: new S3Client({}), dynamodb: new DynamoDBClient({}), sqs: new SQSClient({}) },
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
  return {
    config,
    aws,
    logger,
    metrics: powertoolsMetrics(serviceName),
    deletePolicy: parseDeletePolicy({
      mode: config.deletePolicy,
      maxDeleteFraction: String(config.maxDeleteFraction),
      maxDeleteCount: env[ENV.maxDeleteCount],
    }),
    versionPolicy: parseVersionPolicy(config.versionPolicy),
    icloud: async () =>
      openIcloudAdapters({ endpoint: await endpoint, store, logger, loginCommand: 'icloud-s3 login --aws' }),
  };
}
