/**
 * The four local AWS services on 127.0.0.1, each on an ephemeral port: s3rver (child process),
 * dynalite, local-aws-sqs and the Secrets Manager fake. With `dataDir`, S3 objects, DynamoDB
 * items and secrets persist under it (`s3/`, `dynamodb/`, `secrets.json`); SQS is in memory.
 * Used by the adapter tests and by the one-machine runtime.
 */
import path from 'node:path';
import { type LocalAwsClientConfig, type LocalAwsEndpoints, localAwsClientConfig } from './client-config.ts';
import { startDynamoDbServer } from './dynamodb-server.ts';
import { type LocalServer, startS3Server } from './s3-server.ts';
import { startSecretsManagerServer } from './secrets-manager-server.ts';
import { startSqsServer } from './sqs-server.ts';

export interface LocalAws {
  readonly endpoints: LocalAwsEndpoints;
  readonly clientConfig: LocalAwsClientConfig;
  /** Stops every server; safe to call twice. */
  stop(): Promise<void>;
}

export interface LocalAwsOptions {
  readonly dataDir?: string;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const { dataDir } = options;
  const started: LocalServer[] = [];
  const stopAll = async () => {
    const servers = started.splice(0);
    const results = await Promise.allSettled(servers.map((server) => server.stop()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0)
      throw new AggregateError(
        failures.map((f) => f.reason),
        'stopping local AWS failed',
      );
  };
  const starting = await Promise.allSettled([
    startS3Server(dataDir === undefined ? {} : { directory: path.join(dataDir, 's3') }),
    startDynamoDbServer(dataDir === undefined ? {} : { directory: path.join(dataDir, 'dynamodb') }),
    startSqsServer(),
    startSecretsManagerServer(dataDir === undefined ? {} : { file: path.join(dataDir, 'secrets.json') }),
  ]);
  for (const result of starting) if (result.status === 'fulfilled') started.push(result.value);
  const failure = starting.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    await stopAll().catch(() => undefined);
    throw failure.reason;
  }
  const [s3, dynamodb, sqs, secretsManager] = started as [LocalServer, LocalServer, LocalServer, LocalServer];
  const endpoints: LocalAwsEndpoints = {
    s3: s3.endpoint,
    dynamodb: dynamodb.endpoint,
    sqs: sqs.endpoint,
    secretsManager: secretsManager.endpoint,
  };
  return { endpoints, clientConfig: localAwsClientConfig(endpoints), stop: stopAll };
}
