/**
 * The AWS half of the one-machine runtime: the local S3, DynamoDB and SQS servers, with their
 * data under one folder, provisioned with the same resources the CDK stack creates, and the same
 * adapters the Lambdas use.
 *
 * `openLocalAws` starts DynamoDB (every run reads the state) and each other server when the run
 * first needs it: a sync that finds nothing new asks Apple once, records the check and stops,
 * without starting s3rver (a child process) or the SQS server, or loading their SDK packages
 * (issue 12). The local SQS keeps queues in memory, so a queue never started holds nothing.
 * `openLocalAwsStack` starts everything up front, for tools and tests that want every endpoint.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbAlbumStore } from '#adapters/aws/dynamodb-album-store.ts';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import {
  type LocalAwsClientConfig,
  type LocalAwsEndpoints,
  localAwsClientConfig,
  localClientConfig,
  localS3ClientConfig,
} from '#local/servers/client-config.ts';
import { startDynamoDbServer } from '#local/servers/dynamodb-server.ts';
import { ensureStateTable, type WorkQueueUrls } from '#local/servers/provision.ts';
import type { LocalServer } from '#local/servers/s3-server.ts';
import type { DeadLetterQueue } from '#ports/dead-letter-queue.ts';
import { ARCHIVE_S3_CLIENT_CONFIG } from './archive-s3-client.ts';
import type { AwsAdapters, AwsClients } from './aws-adapters.ts';
import { LOCAL_RESOURCES } from './local-resources.ts';
import {
  deadLetterQueueOnFirstUse,
  objectStoreOnFirstUse,
  once,
  workQueueOnFirstUse,
} from './on-first-use.ts';

export { LOCAL_RESOURCES };

/** The local runtime's archive S3 client: the local server's address and keys, Lambda's settings. */
export function localArchiveS3ClientConfig(endpoint: string): S3ClientConfig {
  return { ...localS3ClientConfig(endpoint), ...ARCHIVE_S3_CLIENT_CONFIG };
}

export interface LocalS3 {
  readonly client: S3Client;
  readonly endpoint: string;
  readonly clientConfig: S3ClientConfig;
}

export interface LocalSqs {
  readonly client: SQSClient;
  readonly endpoint: string;
  readonly queues: WorkQueueUrls;
}

/** The local services, each server started on first use; `objects` and `queue` start theirs. */
export interface LocalAws extends AwsAdapters {
  readonly dataDir: string;
  readonly bucket: string;
  readonly table: string;
  readonly dynamodb: { readonly client: DynamoDBClient; readonly endpoint: string };
  /** The local S3, started (and its bucket created) on the first call. */
  s3(): Promise<LocalS3>;
  /** True once something asked for S3 (or `startNewS3AtOnce` started it). */
  s3Started(): boolean;
  /** The local SQS, started (and the work queue and its dead-letter queue created) on the first call. */
  sqs(): Promise<LocalSqs>;
  /** True once something asked for SQS: until then both queues are empty. */
  sqsStarted(): boolean;
  /** The dead-letter queue, empty without asking while SQS has not started. */
  readonly deadLetters: DeadLetterQueue;
  /** Stops the servers started so far and destroys the clients; safe to call twice. */
  stop(): Promise<void>;
}

/** Everything started: the endpoints and clients of the four services (Secrets Manager too). */
export interface LocalAwsStack extends LocalAws {
  readonly clients: AwsClients;
  readonly endpoints: LocalAwsEndpoints;
  readonly clientConfig: LocalAwsClientConfig;
  readonly queues: WorkQueueUrls;
}

export interface LocalAwsStackOptions {
  /** Where objects and state persist (`<dataDir>/aws`). */
  readonly dataDir: string;
  /** Seconds a received work message stays invisible; above any handler run. */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before a message is moved to the dead-letter queue. */
  readonly maxReceiveCount?: number;
  readonly partSizeMiB?: number;
  readonly queueSize?: number;
  /**
   * Starts the local S3 with the stack, beside DynamoDB, when `dataDir` has none yet (a first
   * sync): its first detection page writes the catalog journal, and the s3rver child takes a
   * quarter of a second or more to start, which that page would wait out. A data dir with a local
   * S3 starts it on first use as ever, so an idle run starts none.
   */
  readonly startNewS3AtOnce?: boolean;
  /**
   * Starts the local SQS server and creates its queues beside DynamoDB too, on the same condition
   * (a data dir without a local S3): the first enqueue waited for both, after the first page's
   * journal. `sqsStarted()` stays false until the run asks for SQS, so a run that enqueues nothing
   * still drains, redrives and parks nothing.
   */
  readonly startNewSqsAtOnce?: boolean;
}

export async function openLocalAws(options: LocalAwsStackOptions): Promise<LocalAws> {
  const awsDir = path.join(options.dataDir, 'aws');
  const servers: LocalServer[] = [];
  const destroy: (() => void)[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const destroyClient of destroy.splice(0)) destroyClient();
    const results = await Promise.allSettled(servers.splice(0).map((server) => server.stop()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0)
      throw new AggregateError(
        failures.map((f) => f.reason),
        'stopping local AWS failed',
      );
  };
  /** Starts a server, or throws if the stack was stopped meanwhile (the server is stopped again). */
  const started = async <T extends LocalServer>(server: T): Promise<T> => {
    if (stopped) {
      await server.stop();
      throw new Error('the local AWS stack was stopped');
    }
    servers.push(server);
    return server;
  };

  const s3 = once(async (): Promise<LocalS3> => {
    const [{ S3Client }, { startS3Server }] = await Promise.all([
      import('@aws-sdk/client-s3'),
      import('#local/servers/s3-server.ts'),
    ]);
    // The child makes the bucket before it listens: a first sync's first journal waited for a
    // HeadBucket and a CreateBucket (15-40 ms on a fresh child) in about half the runs
    // (docs/benchmarks.md §0, "The tail and start of a local run").
    const server = await started(
      await startS3Server({ directory: path.join(awsDir, 's3'), bucket: LOCAL_RESOURCES.bucket }),
    );
    const clientConfig = localArchiveS3ClientConfig(server.endpoint);
    const client = new S3Client(clientConfig);
    destroy.push(() => client.destroy());
    return { client, endpoint: server.endpoint, clientConfig };
  });
  /** The SQS server and its queues, up; `sqs` below is what the run uses (and counts as started). */
  const sqsServer = once(async (): Promise<LocalSqs> => {
    const [{ SQSClient }, { startSqsServer }, { ensureWorkQueue }] = await Promise.all([
      import('@aws-sdk/client-sqs'),
      import('#local/servers/sqs-server.ts'),
      import('#local/servers/provision.ts'),
    ]);
    const server = await started(await startSqsServer());
    const client = new SQSClient(localClientConfig(server.endpoint));
    destroy.push(() => client.destroy());
    const queues = await ensureWorkQueue(client, LOCAL_RESOURCES.queue, {
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 900,
      maxReceiveCount: options.maxReceiveCount ?? 5,
    });
    return { client, endpoint: server.endpoint, queues };
  });
  const sqs = once(async (): Promise<LocalSqs> => {
    const opened = await sqsServer();
    // Work on the queue is downloaded next: S3 starts meanwhile (its own errors surface on use).
    s3().catch(() => undefined);
    return opened;
  });

  // Their failures surface where they are used (each returns the same rejected promise).
  const newDataDir = !existsSync(path.join(awsDir, 's3'));
  if (options.startNewS3AtOnce === true && newDataDir) s3().catch(() => undefined);
  if (options.startNewSqsAtOnce === true && newDataDir) sqsServer().catch(() => undefined);

  try {
    const dynamodbServer = await started(
      await startDynamoDbServer({ directory: path.join(awsDir, 'dynamodb') }),
    );
    const dynamodb = new DynamoDBClient(localClientConfig(dynamodbServer.endpoint));
    destroy.push(() => dynamodb.destroy());
    await ensureStateTable(dynamodb, LOCAL_RESOURCES.table);
    const document = DynamoDBDocumentClient.from(dynamodb, {
      marshallOptions: { removeUndefinedValues: true },
    });
    return {
      dataDir: options.dataDir,
      bucket: LOCAL_RESOURCES.bucket,
      table: LOCAL_RESOURCES.table,
      dynamodb: { client: dynamodb, endpoint: dynamodbServer.endpoint },
      state: new DynamoDbSyncStateStore({ client: document, tableName: LOCAL_RESOURCES.table }),
      albums: new DynamoDbAlbumStore({ client: document, tableName: LOCAL_RESOURCES.table }),
      sharedAlbumState: new DynamoDbSharedAlbumStateStore({
        client: document,
        tableName: LOCAL_RESOURCES.table,
      }),
      objects: objectStoreOnFirstUse(async () => {
        const [{ client }, { S3ObjectStore }] = await Promise.all([
          s3(),
          import('#adapters/aws/s3-object-store.ts'),
        ]);
        return new S3ObjectStore({
          client,
          bucket: LOCAL_RESOURCES.bucket,
          partSize: (options.partSizeMiB ?? 8) * 1024 * 1024,
          queueSize: options.queueSize ?? 4,
        });
      }),
      queue: workQueueOnFirstUse(async () => {
        const [{ client, queues }, { SqsWorkQueue }] = await Promise.all([
          sqs(),
          import('#adapters/aws/sqs-work-queue.ts'),
        ]);
        return new SqsWorkQueue({ client, queueUrl: queues.queueUrl });
      }),
      deadLetters: deadLetterQueueOnFirstUse(async () => {
        const [{ client, queues }, { SqsDeadLetterQueue }] = await Promise.all([
          sqs(),
          import('#adapters/aws/sqs-dead-letter-queue.ts'),
        ]);
        return new SqsDeadLetterQueue({
          client,
          deadLetterQueueUrl: queues.deadLetterQueueUrl,
          workQueueUrl: queues.queueUrl,
        });
      }, sqs.opened),
      s3,
      s3Started: s3.opened,
      sqs,
      sqsStarted: sqs.opened,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

export async function openLocalAwsStack(options: LocalAwsStackOptions): Promise<LocalAwsStack> {
  const aws = await openLocalAws(options);
  try {
    const [s3, sqs] = await Promise.all([aws.s3(), aws.sqs()]);
    const { startSecretsManagerServer } = await import('#local/servers/secrets-manager-server.ts');
    const secretsManager = await startSecretsManagerServer({
      file: path.join(options.dataDir, 'aws', 'secrets.json'),
    });
    const endpoints: LocalAwsEndpoints = {
      s3: s3.endpoint,
      dynamodb: aws.dynamodb.endpoint,
      sqs: sqs.endpoint,
      secretsManager: secretsManager.endpoint,
    };
    let stopped = false;
    return {
      ...aws,
      clients: { s3: s3.client, dynamodb: aws.dynamodb.client, sqs: sqs.client },
      endpoints,
      clientConfig: { ...localAwsClientConfig(endpoints), s3: s3.clientConfig },
      queues: sqs.queues,
      async stop() {
        if (stopped) return;
        stopped = true;
        const results = await Promise.allSettled([aws.stop(), secretsManager.stop()]);
        const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failures.length > 0)
          throw new AggregateError(
            failures.map((f) => f.reason),
            'stopping local AWS failed',
          );
      },
    };
  } catch (error) {
    await aws.stop().catch(() => undefined);
    throw error;
  }
}
