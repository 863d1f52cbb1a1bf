import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#shared/env-names.ts';
import {
  ALL_OPTIONS,
  actionsOf,
  logicalIdOf,
  type Synthesised,
  statementsOfRole,
  synthesise,
} from './synth.ts';

let synth: Synthesised;
beforeAll(() => {
  synth = synthesise(ALL_OPTIONS);
});

type Props = Record<string, unknown>;
const propsOf = (construct: Parameters<typeof logicalIdOf>[1]): Props => {
  const all = synth.template.toJSON().Resources as Record<string, { Properties: Props }>;
  const found = all[logicalIdOf(synth.stack, construct)];
  if (!found) throw new Error('resource not found');
  return found.Properties;
};

describe('archive bucket with every option', () => {
  it('is encrypted with a retained, rotated customer key and an S3 bucket key', () => {
    const key = synth.stack.archive.encryptionKey!;
    expect(propsOf(synth.stack.archive.bucket).BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [logicalIdOf(synth.stack, key), 'Arn'] },
          },
          BucketKeyEnabled: true,
        },
      ],
    });
    synth.template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, Description: Match.stringLikeRegexp('photo archive') },
      DeletionPolicy: 'Retain',
    });
  });

  it('locks every new object version in governance mode for 365 days', () => {
    expect(propsOf(synth.stack.archive.bucket)).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
      },
    });
  });

  it('moves objects to Glacier Instant Retrieval after 30 days and expires old versions after 180', () => {
    expect(propsOf(synth.stack.archive.bucket).LifecycleConfiguration).toEqual({
      Rules: expect.arrayContaining([
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 180 } }),
        expect.objectContaining({ Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }] }),
      ]),
    });
  });
});

describe('functions with every option', () => {
  it('let the download worker use the archive key to encrypt and decrypt', () => {
    const kms = statementsOfRole(synth.template, synth.stack, synth.stack.workers.fn.role).filter((s) =>
      actionsOf([s]).some((a) => a.startsWith('kms:')),
    );
    expect(kms).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.archive.encryptionKey!), 'Arn'] },
      },
    ]);
  });

  it('pass the mirror delete policy to both functions', () => {
    for (const fn of [synth.stack.detector.fn, synth.stack.workers.fn]) {
      expect((propsOf(fn.function).Environment as { Variables: Props }).Variables[ENV.deletePolicy]).toBe(
        'mirror',
      );
    }
  });

  it('tell the download workers the bucket has Object Lock, so every part carries a checksum', () => {
    const env = (propsOf(synth.stack.workers.fn.function).Environment as { Variables: Props }).Variables;
    expect(env[ENV.archiveObjectLock]).toBe('true');
  });

  it('leave a later or Glacier IR transition to the rule: no class named on writes', () => {
    // Glacier IR bills an object under 128 KiB as 128 KiB, and its rule does not move those.
    for (const fn of [synth.stack.detector.fn, synth.stack.workers.fn]) {
      expect((propsOf(fn.function).Environment as { Variables: Props }).Variables).not.toHaveProperty(
        ENV.archiveStorageClass,
      );
    }
  });

  it('run the detector hourly', () => {
    expect(propsOf(synth.stack.detector.rule).ScheduleExpression).toBe('rate(1 hour)');
  });

  it('cap the download workers at the configured concurrency', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 3 },
    });
  });

  it('keep logs for the configured retention', () => {
    expect(propsOf(synth.stack.detector.fn.logGroup).RetentionInDays).toBe(90);
  });
});

describe('alarms and outputs with every option', () => {
  it('email the alarm address', () => {
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'jane@example.com',
      TopicArn: { Ref: logicalIdOf(synth.stack, synth.stack.alarms.topic) },
    });
  });

  it('watch the detector per hourly run and the last 24 hours for a success', () => {
    expect(propsOf(synth.stack.alarms.detectorErrors)).toMatchObject({ Period: 3600, EvaluationPeriods: 2 });
    expect(propsOf(synth.stack.alarms.noRecentSync)).toMatchObject({
      EvaluationPeriods: 24,
      DatapointsToAlarm: 24,
    });
  });

  it('tell rclone the archive uses SSE-KMS, so it never mistakes an ETag for an MD5', () => {
    const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.RcloneRemoteCommand!.Value)).toContain('server_side_encryption=aws:kms');
    expect(outputs.LoginCommand!.Value).toBe(
      'npx icloud-s3 login --aws --stack PhotosJane --remember-password',
    );
  });

  it('let rclone decrypt with the archive key', () => {
    synth.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:Decrypt' })]) },
    });
  });
});
