/**
 * Builds the AWS adapters from SDK clients: one place, used by both Lambda handlers (clients
 * from the environment, once per cold start) and the local runtime (clients pointed at the
 * local servers). Clients are passed in, never imported singletons.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbAlbumStore } from '#adapters/aws/dynamodb-album-store.ts';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { DynamoDbSyncStateStore } from '#adapters/aws/dynamodb-sync-state-store.ts';
import { S3ObjectStore } from '#adapters/aws/s3-object-store.ts';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import type { WorkQueue } from '#ports/work-queue.ts';

export interface AwsClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
}

export interface AwsResources {
  readonly bucket: string;
  readonly table: string;
  readonly queueUrl: string;
  readonly partSizeMiB: number;
  readonly queueSize: number;
}

export interface AwsAdapters {
  readonly state: SyncStateStore;
  /** Shared Albums' list and items, in the same table. */
  readonly sharedAlbumState: SharedAlbumStateStore;
  /** Albums and their members, on the state table. */
  readonly albums: AlbumStore;
  readonly objects: ObjectStore;
  readonly queue: WorkQueue;
}

export function buildAwsAdapters(clients: AwsClients, resources: AwsResources): AwsAdapters {
  const document = DynamoDBDocumentClient.from(clients.dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    state: new DynamoDbSyncStateStore({ client: document, tableName: resources.table }),
    sharedAlbumState: new DynamoDbSharedAlbumStateStore({ client: document, tableName: resources.table }),
    albums: new DynamoDbAlbumStore({ client: document, tableName: resources.table }),
    objects: new S3ObjectStore({
      client: clients.s3,
      bucket: resources.bucket,
      partSize: resources.partSizeMiB * 1024 * 1024,
      queueSize: resources.queueSize,
    }),
    queue: new SqsWorkQueue({ client: clients.sqs, queueUrl: resources.queueUrl }),
  };
}
