/**
 * What both Lambda composition roots share, built once per cold start from the environment:
 * config, logger, metrics, the session store (Secrets Manager, by id: secrets are never in the
 * environment), what opens the iCloud connection and the archive's S3 client and DynamoDB
 * document client and S3 client. Each function composes the rest on its own (lambda-detector.ts, lambda-downloader.ts),
 * so neither bundle carries the other's use case, adapters or SDK clients.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { type DeletePolicy, parseDeletePolicy } from '#domain/plan/delete-policy.ts';
import { parseVersionPolicy, type VersionPolicy } from '#domain/plan/version-policy.ts';
import { loadConfig, type PipelineConfig } from '#shared/config.ts';
import { createLogger, type Logger } from '#shared/logger.ts';
import { PowertoolsMetrics } from '#shared/pipeline-metrics.ts';
import { ARCHIVE_S3_CLIENT_CONFIG } from './archive-s3-client.ts';
import type { IcloudAdapterOptions } from './icloud-adapters.ts';

export interface LambdaBase {
  readonly config: PipelineConfig;
  readonly logger: Logger;
  readonly metrics: PowertoolsMetrics;
  /** The state table through the document client (`undefined` attributes dropped). */
  readonly document: DynamoDBDocumentClient;
  /**
   * The archive bucket's client: each function builds its own store on it (the detector one
   * without streamed puts, so its bundle carries no lib-storage).
   */
  readonly s3: S3Client;
  readonly deletePolicy: DeletePolicy;
  readonly versionPolicy: VersionPolicy;
  /**
   * What opens the stored session and the iCloud adapters on it (no request yet): each function
   * opens what it uses (the detector the library alone, the workers the CDN too).
   */
  readonly icloudOptions: () => Promise<IcloudAdapterOptions>;
  /**
   * Every AWS SDK client built here. A composition root lists the ones it adds beside these in its
   * own `awsClients`: test/e2e/iam-covers-every-call.test.ts records each client's calls there
   * and checks them against the function's role, so a client left out is a call left unchecked.
   */
  readonly awsClients: readonly AwsSdkClient[];
}

/** The SDK clients a Lambda builds (their `middlewareStack` is what the IAM coverage test hooks). */
export type AwsSdkClient = DynamoDBClient | S3Client | SecretsManagerClient | SQSClient;

export function composeLambdaBase(env: NodeJS.ProcessEnv, serviceName: string): LambdaBase {
  const config = loadConfig(env);
  const logger = createLogger({ serviceName });
  const secrets = new SecretsManagerClient({});
  const dynamodb = new DynamoDBClient({});
  const s3 = new S3Client({ ...ARCHIVE_S3_CLIENT_CONFIG });
  const store = new SecretsManagerSessionStore({
    client: secrets,
    secretId: config.sessionSecretId,
    // Warm invocations reuse the session for a minute (a sync runs many worker invocations); a
    // save refreshes the cached copy, and a save against a newer secret version is refused (CAS).
    cacheTtlMs: 60_000,
  });
  const endpoint = resolveEndpoint(config.icloudEndpoint);
  return {
    config,
    logger,
    metrics: new PowertoolsMetrics(serviceName),
    document: DynamoDBDocumentClient.from(dynamodb, {
      marshallOptions: { removeUndefinedValues: true },
    }),
    s3,
    deletePolicy: parseDeletePolicy({
      mode: config.deletePolicy,
      maxDeleteFraction: String(config.maxDeleteFraction),
      maxDeleteCount: String(config.maxDeleteCount),
    }),
    versionPolicy: parseVersionPolicy(config.versionPolicy),
    icloudOptions: async () => ({
      endpoint: await endpoint,
      store,
      logger,
      loginCommand: 'icloud-s3 login --aws',
    }),
    awsClients: [secrets, dynamodb, s3],
  };
}
