/**
 * The local AWS servers for a test file: start in `beforeAll`, stop in `afterAll`. Hands out
 * SDK clients configured for them and fresh resource names, so tests in one file never share
 * a table, queue or bucket by accident.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type LocalAws, startLocalAws } from '#local/servers/local-aws.ts';
import {
  ensureBucket,
  ensureSecret,
  ensureStateTable,
  ensureWorkQueue,
  type WorkQueueSettings,
  type WorkQueueUrls,
} from '#local/servers/provision.ts';

export interface TestAws {
  readonly aws: LocalAws;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly secretsManager: SecretsManagerClient;
  /** A new, empty state table. */
  createTable(): Promise<string>;
  /** A new, empty bucket. */
  createBucket(): Promise<string>;
  /** A new work queue with its dead-letter queue. */
  createQueue(settings?: WorkQueueSettings): Promise<WorkQueueUrls>;
  /** A new secret without a value. */
  createSecret(): Promise<string>;
  stop(): Promise<void>;
}

function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function startTestAws(options: { dataDir?: string } = {}): Promise<TestAws> {
  const aws = await startLocalAws(options);
  const s3 = new S3Client(aws.clientConfig.s3);
  const dynamodb = new DynamoDBClient(aws.clientConfig.dynamodb);
  const documents = DynamoDBDocumentClient.from(dynamodb);
  const sqs = new SQSClient(aws.clientConfig.sqs);
  const secretsManager = new SecretsManagerClient(aws.clientConfig.secretsManager);
  return {
    aws,
    s3,
    dynamodb,
    documents,
    sqs,
    secretsManager,
    async createTable() {
      const name = uniqueName('state');
      await ensureStateTable(dynamodb, name);
      return name;
    },
    async createBucket() {
      const name = uniqueName('archive');
      await ensureBucket(s3, name);
      return name;
    },
    createQueue: (settings) => ensureWorkQueue(sqs, uniqueName('work'), settings),
    async createSecret() {
      const name = uniqueName('icloud-s3/session');
      await ensureSecret(secretsManager, name);
      return name;
    },
    async stop() {
      for (const client of [s3, dynamodb, sqs, secretsManager]) client.destroy();
      await aws.stop();
    },
  };
}
