import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORK_RETENTION_MS } from '../../functions/shared/env-names.ts';
import { MAX_RECEIVE_COUNT } from '../../infra/work-queue.ts';
import { logicalIdOf, type Synthesised, synthesise } from './synth.ts';

let synth: Synthesised;
beforeAll(() => {
  synth = synthesise();
});

const resource = (construct: Parameters<typeof logicalIdOf>[1]) => {
  const id = logicalIdOf(synth.stack, construct);
  const all = synth.template.toJSON().Resources as Record<
    string,
    { Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }
  >;
  const found = all[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
};

describe('archive bucket', () => {
  const bucket = () => resource(synth.stack.archive.bucket);

  it('blocks every kind of public access', () => {
    expect(bucket().Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('is encrypted with SSE-S3 by default', () => {
    expect(bucket().Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  it('denies requests that do not use TLS', () => {
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(synth.stack, synth.stack.archive.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('keeps old versions of overwritten and deleted objects', () => {
    expect(bucket().Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('aborts abandoned multipart uploads, expires old versions after 90 days and tiers current objects', () => {
    expect(bucket().Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'abort-incomplete-multipart-uploads',
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 },
        },
        {
          // The superseded first version of a multipart object is a duplicate: gone after a day.
          Id: 'expire-superseded-staging-versions',
          Status: 'Enabled',
          TagFilters: [{ Key: 'icloud-s3-staging', Value: '1' }],
          // Up to CopyObject's 5 GiB (test/infra/lifecycle-expiry.test.ts says why).
          ObjectSizeLessThan: 5 * 1024 ** 3 + 1,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        },
        {
          // Over 5 GiB the copy is a multipart copy, and the upload has a tag value of its own.
          Id: 'expire-superseded-multipart-copy-staging-versions',
          Status: 'Enabled',
          TagFilters: [{ Key: 'icloud-s3-staging', Value: 'multipart-copy' }],
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        },
        {
          Id: 'expire-noncurrent-versions',
          Status: 'Enabled',
          NoncurrentVersionExpiration: { NoncurrentDays: 90 },
          ExpiredObjectDeleteMarker: true,
        },
        {
          Id: 'transition-to-intelligent-tiering',
          Status: 'Enabled',
          Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 0 }],
        },
      ],
    });
  });

  it('has no Object Lock unless asked for', () => {
    expect(bucket().Properties.ObjectLockEnabled).toBeUndefined();
    expect(bucket().Properties.ObjectLockConfiguration).toBeUndefined();
  });

  it('logs server access to a separate private, encrypted, TLS-only bucket that expires logs', () => {
    const logsId = logicalIdOf(synth.stack, synth.stack.archive.accessLogs);
    expect(bucket().Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logsId },
      LogFilePrefix: 'archive/',
    });
    const logs = resource(synth.stack.archive.accessLogs);
    expect(logs.Properties.PublicAccessBlockConfiguration).toMatchObject({
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(logs.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(logs.Properties.LifecycleConfiguration).toMatchObject({
      Rules: expect.arrayContaining([expect.objectContaining({ ExpirationInDays: 365 })]),
    });
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('is retained, with its access logs, when the stack is deleted or the bucket replaced', () => {
    for (const b of [bucket(), resource(synth.stack.archive.accessLogs)]) {
      expect([b.DeletionPolicy, b.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
  });
});

describe('state table', () => {
  const table = () => resource(synth.stack.state.table);

  it('is keyed by pk and sk strings and billed on demand', () => {
    expect(table().Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    });
  });

  it('has point-in-time recovery and deletion protection', () => {
    expect(table().Properties.Replicas).toEqual([
      expect.objectContaining({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    ]);
  });

  it('is retained when the stack is deleted', () => {
    expect([table().DeletionPolicy, table().UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });
});

describe('work queue', () => {
  const queue = () => resource(synth.stack.work.queue);
  const dlq = () => resource(synth.stack.work.deadLetterQueue);
  const workerTimeout = () => {
    const fn = resource(synth.stack.workers.fn.function);
    return fn.Properties.Timeout as number;
  };

  it('encrypts both queues with SQS-managed keys', () => {
    expect(queue().Properties.SqsManagedSseEnabled).toBe(true);
    expect(dlq().Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('denies plain-HTTP access to both queues', () => {
    for (const q of [synth.stack.work.queue, synth.stack.work.deadLetterQueue]) {
      synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalIdOf(synth.stack, q) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('hides a received message for at least six times the download timeout', () => {
    expect(queue().Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * workerTimeout());
  });

  it('parks a message in the dead-letter queue after five receives', () => {
    expect(MAX_RECEIVE_COUNT).toBe(5);
    expect(queue().Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: {
        'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.work.deadLetterQueue), 'Arn'],
      },
      maxReceiveCount: 5,
    });
  });

  it('keeps work and dead letters 14 days, the longest SQS allows (the redrive pass moves what waits longer)', () => {
    expect(dlq().Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(queue().Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(WORK_RETENTION_MS).toBe(14 * 24 * 3600 * 1000);
  });
});

describe('session secret', () => {
  const secret = () => resource(synth.stack.session.secret);

  it('is created without a value and tells the user how to fill it', () => {
    expect(secret().Properties.GenerateSecretString).toBeUndefined();
    expect(secret().Properties.SecretString).toBeUndefined();
    expect(secret().Properties.Description).toContain('icloud-s3 login --aws --stack IcloudS3');
  });

  it('is retained so a redeploy does not force a new two-factor sign-in', () => {
    expect([secret().DeletionPolicy, secret().UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });
});
