/**
 * Creates what the pipeline needs on the local servers when it is missing: the state table,
 * the work queue with its dead-letter queue, the archive bucket, the session secret. Each
 * helper is idempotent. In AWS the CDK stack creates the same resources.
 *
 * Each helper imports its service's SDK package when it runs: a run that needs only the state
 * table loads no S3 or SQS client code (the local runtime starts each server on first use).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_RECEIVE_STEPS_PER_DELIVERY } from './sqs-server.ts';

/** The state table's shape: `pk`/`sk` strings, on demand; docs/state.md lists the item types. */
export async function ensureStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } = await import(
    '@aws-sdk/client-dynamodb'
  );
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (described.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`table ${tableName} did not become active`);
}

export interface WorkQueueUrls {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
}

export interface WorkQueueSettings {
  /** Seconds a received message stays invisible (keep it above any wait time: local-aws-sqs bug). */
  readonly visibilityTimeoutSeconds?: number;
  /** Deliveries before a message moves to the dead-letter queue (as `maxReceiveCount` in AWS). */
  readonly maxReceiveCount?: number;
}

async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const attributes = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = attributes.Attributes?.QueueArn;
  if (arn === undefined) throw new Error('queue has no ARN');
  return arn;
}

/** The work queue `name` and its dead-letter queue `name-dlq` (CreateQueue is idempotent for equal attributes). */
export async function ensureWorkQueue(
  client: SQSClient,
  name: string,
  settings: WorkQueueSettings = {},
): Promise<WorkQueueUrls> {
  const { CreateQueueCommand } = await import('@aws-sdk/client-sqs');
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  if (dlq.QueueUrl === undefined) throw new Error('CreateQueue returned no URL');
  const deadLetterTargetArn = await queueArn(client, dlq.QueueUrl);
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds ?? 120),
        RedrivePolicy: JSON.stringify({
          // local-aws-sqs counts the visibility change of a failed delivery as a receive.
          maxReceiveCount: (settings.maxReceiveCount ?? 5) * LOCAL_RECEIVE_STEPS_PER_DELIVERY,
          deadLetterTargetArn,
        }),
      },
    }),
  );
  if (queue.QueueUrl === undefined) throw new Error('CreateQueue returned no URL');
  return {
    queueUrl: queue.QueueUrl,
    queueArn: await queueArn(client, queue.QueueUrl),
    deadLetterQueueUrl: dlq.QueueUrl,
  };
}

export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  const { CreateBucketCommand, HeadBucketCommand } = await import('@aws-sdk/client-s3');
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

/** Creates the secret without a value when missing (a session store then reads "no session"). */
export async function ensureSecret(client: SecretsManagerClient, name: string): Promise<void> {
  const { CreateSecretCommand, DescribeSecretCommand } = await import('@aws-sdk/client-secrets-manager');
  try {
    await client.send(new DescribeSecretCommand({ SecretId: name }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    await client.send(new CreateSecretCommand({ Name: name }));
  }
}
