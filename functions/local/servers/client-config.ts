/**
 * SDK client settings for the local servers: loopback endpoints, fake credentials, one region.
 * S3 also needs path-style addressing, and `requestChecksumCalculation: 'WHEN_REQUIRED'`:
 * with the SDK default, stream bodies go out `aws-chunked` and s3rver stores the chunk framing
 * as object data. Real AWS keeps the SDK defaults.
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';

export interface LocalAwsEndpoints {
  readonly s3: string;
  readonly dynamodb: string;
  readonly sqs: string;
  readonly secretsManager: string;
}

export interface LocalAwsClientConfig {
  readonly s3: S3ClientConfig;
  readonly dynamodb: DynamoDBClientConfig;
  readonly sqs: SQSClientConfig;
  readonly secretsManager: SecretsManagerClientConfig;
}

export const LOCAL_REGION = 'us-east-1';

const common = {
  region: LOCAL_REGION,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

/** The local S3 server's client settings. */
export function localS3ClientConfig(endpoint: string): S3ClientConfig {
  return {
    ...common,
    // s3rver knows exactly one access key.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/** Settings for the DynamoDB, SQS or Secrets Manager fake at `endpoint`. */
export function localClientConfig(endpoint: string) {
  return { ...common, endpoint };
}

export function localAwsClientConfig(endpoints: LocalAwsEndpoints): LocalAwsClientConfig {
  return {
    s3: localS3ClientConfig(endpoints.s3),
    dynamodb: localClientConfig(endpoints.dynamodb),
    sqs: localClientConfig(endpoints.sqs),
    secretsManager: localClientConfig(endpoints.secretsManager),
  };
}
