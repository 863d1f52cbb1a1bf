import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesised, synthesise } from './synth.ts';

/**
 * An update (`git pull && cdk deploy`) must never replace the stateful resources: a new logical
 * id, key schema or physical name would create an empty table, bucket or secret beside the old
 * one (retained, so orphaned), and the next sync would start over. These ids are the ones every
 * release since the first day (7de3375, 2026-11-22) has synthesised.
 */
const STATEFUL = {
  ArchiveBucket49F1AC64: 'AWS::S3::Bucket',
  ArchiveAccessLogs31F4F9D7: 'AWS::S3::Bucket',
  StateTable962DE04C: 'AWS::DynamoDB::GlobalTable',
  SessionSecret472BD130: 'AWS::SecretsManager::Secret',
  WorkQueue1CAC4D2F: 'AWS::SQS::Queue',
  WorkDeadLetters7D6F983C: 'AWS::SQS::Queue',
} as const;
const RETAINED = [
  'ArchiveBucket49F1AC64',
  'ArchiveAccessLogs31F4F9D7',
  'StateTable962DE04C',
  'SessionSecret472BD130',
];

describe('an upgrade keeps the stateful resources', () => {
  let synth: Synthesised;
  beforeAll(() => {
    synth = synthesise();
  });

  it('keeps their logical ids and types, with no physical names CloudFormation would replace on', () => {
    const resources = synth.template.toJSON().Resources as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    for (const [id, type] of Object.entries(STATEFUL)) {
      expect(resources[id]?.Type, id).toBe(type);
      const props = resources[id]?.Properties ?? {};
      for (const name of ['BucketName', 'TableName', 'QueueName', 'Name', 'FifoQueue'])
        expect(props[name], `${id}.${name}`).toBeUndefined();
    }
  });

  it('keeps the state table keyed pk/sk (strings), retained, deletion-protected, with PITR', () => {
    const table = synth.template.toJSON().Resources.StateTable962DE04C;
    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table.Properties.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
    expect(table.Properties.Replicas[0]).toMatchObject({
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('retains the bucket, access logs, table and secret on deletion and on replacement', () => {
    const resources = synth.template.toJSON().Resources;
    for (const id of RETAINED) {
      expect(resources[id].DeletionPolicy, id).toBe('Retain');
      expect(resources[id].UpdateReplacePolicy, id).toBe('Retain');
    }
  });
});
