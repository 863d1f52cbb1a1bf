import { beforeAll, describe, expect, it } from 'vitest';
import {
  sharedAlbumsPartPartition,
  sharedItemPartition,
} from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { keys } from '#adapters/aws/state-items.ts';
import { transferLockName } from '#domain/archive/transfer-lease.ts';
import {
  BATCH_WRITTEN_ITEMS,
  DELETABLE_STATE_ITEMS,
  WORKER_BATCH_WRITTEN_ITEMS,
} from '../../infra/state-table.ts';
import {
  actionsOf,
  logicalIdOf,
  type Statement,
  type Synthesised,
  statementsOfRole,
  synthesise,
} from './synth.ts';

// Each function gets exactly what its code calls (docs/deploy.md, "What each part may do"):
// one synth with the default `keep` policy, one with `mirror`.
let keep: Synthesised;
let mirror: Synthesised;
beforeAll(() => {
  keep = synthesise();
  mirror = synthesise({ deletePolicy: 'mirror', sessionAdminArns: 'arn:aws:iam::*:role/PhotosAdmin' });
});

type Props = Record<string, unknown>;
const resourcesOf = (synth: Synthesised) =>
  synth.template.toJSON().Resources as Record<string, { Type: string; Properties: Props }>;
const statements = (synth: Synthesised, fn: 'detector' | 'workers'): Statement[] =>
  statementsOfRole(synth.template, synth.stack, synth.stack[fn].fn.role);
const actions = (synth: Synthesised, fn: 'detector' | 'workers') => actionsOf(statements(synth, fn));
const roleArn = (synth: Synthesised, fn: 'detector' | 'workers') => ({
  'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack[fn].fn.role), 'Arn'],
});

/** The leading-key patterns a statement allowing `dynamodb:DeleteItem` is limited to. */
function deletableItems(synth: Synthesised, fn: 'detector' | 'workers'): unknown {
  const deletes = statements(synth, fn).filter((s) => actionsOf([s]).includes('dynamodb:DeleteItem'));
  expect(deletes).toHaveLength(1);
  expect(actionsOf(deletes)).toEqual(['dynamodb:DeleteItem']);
  const condition = (deletes[0] as Statement & { Condition?: Record<string, Record<string, unknown>> })
    .Condition;
  return condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
}

describe('archive bucket grants', () => {
  it('under keep, the download worker may not delete objects', () => {
    expect(
      actions(keep, 'workers')
        .filter((a) => a.startsWith('s3:'))
        .sort(),
    ).toEqual([
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:ListBucket',
      // A resumed upload's ListParts (docs/deploy.md, "Very large videos").
      's3:ListMultipartUploadParts',
      's3:PutObject',
      's3:PutObjectTagging',
    ]);
  });

  it('under mirror, the download worker may delete objects (it removes what iCloud purged), never versions', () => {
    expect(actions(mirror, 'workers')).toContain('s3:DeleteObject');
    expect(actions(mirror, 'workers')).not.toContain('s3:DeleteObjectVersion');
  });

  it('the change detector touches only the catalog and the album views under either policy, and deletes only its folded journal and album views', () => {
    for (const synth of [keep, mirror]) {
      const s3 = statements(synth, 'detector').filter((s) => actionsOf([s]).some((a) => a.startsWith('s3:')));
      const objectResources = s3
        .filter((s) => !actionsOf([s]).includes('s3:ListBucket'))
        .flatMap((s) => [s.Resource].flat())
        .map((r) => JSON.stringify(r));
      expect(objectResources.every((r) => r.includes('/catalog/') || r.includes('/albums/'))).toBe(true);
      const deletes = s3.filter((s) => actionsOf([s]).includes('s3:DeleteObject'));
      expect(deletes.flatMap((s) => [s.Resource].flat()).map((r) => JSON.stringify(r))).toEqual([
        expect.stringContaining('/catalog/journal/*'),
        expect.stringMatching(/\/albums\/\*"/),
      ]);
    }
  });
});

describe('state table grants', () => {
  it('grants batched reads, batched writes only on master users, enumeration stamps, count markers (and the workers Shared Album items), and transaction checks only on count markers', () => {
    for (const synth of [keep, mirror]) {
      for (const fn of ['detector', 'workers'] as const) {
        expect(actions(synth, fn)).toContain('dynamodb:BatchGetItem');
        // A count's transaction checks its marker absent: DynamoDB authorizes that check as
        // ConditionCheckItem (its Puts and Updates as PutItem and UpdateItem).
        const checks = statements(synth, fn).filter((s) =>
          actionsOf([s]).includes('dynamodb:ConditionCheckItem'),
        );
        expect(actionsOf(checks)).toEqual(['dynamodb:ConditionCheckItem']);
        expect(
          (checks[0] as Statement & { Condition?: Record<string, Record<string, unknown>> }).Condition?.[
            'ForAllValues:StringLike'
          ]?.['dynamodb:LeadingKeys'],
        ).toEqual(['counted#*']);
        const batchWrites = statements(synth, fn).filter((s) =>
          actionsOf([s]).includes('dynamodb:BatchWriteItem'),
        );
        expect(batchWrites).toHaveLength(1);
        expect(actionsOf(batchWrites)).toEqual(['dynamodb:BatchWriteItem']);
        const condition = (
          batchWrites[0] as Statement & { Condition?: Record<string, Record<string, unknown>> }
        ).Condition;
        expect(condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']).toEqual([
          'master#*',
          'seen#*',
          'counted#*',
          // A page of a Shared Album's items is stored in one BatchWriteItem, by the workers.
          ...(fn === 'workers' ? ['shared-item#*'] : []),
        ]);
      }
    }
  });

  it('names the batch-written item patterns the state store really uses', () => {
    const like = (pattern: string) => new RegExp(`^${pattern.replace('*', '.*')}$`);
    const zone = { database: 'private', zoneName: 'PrimarySync' } as const;
    expect(keys.masterUser('M1', { zone, assetRecordName: 'A1' }).pk).toMatch(like('master#*'));
    expect(keys.seen({ zone, assetRecordName: 'A1' }).pk).toMatch(like('seen#*'));
    expect(keys.settledCount('n1').pk).toMatch(like('counted#*'));
    expect([...BATCH_WRITTEN_ITEMS]).toEqual(['master#*', 'seen#*', 'counted#*']);
    expect(sharedItemPartition('ALBUM-GUID')).toMatch(like(WORKER_BATCH_WRITTEN_ITEMS[0]));
  });

  it('lets the change detector delete only the run lock, album members, failed photos’ retry items and replaced parts of the Shared Albums list', () => {
    expect(deletableItems(keep, 'detector')).toEqual([
      'lock#*',
      'albumMember#*',
      'zone',
      'shared-albums-part#*',
    ]);
    expect(deletableItems(mirror, 'detector')).toEqual([
      'lock#*',
      'albumMember#*',
      'zone',
      'shared-albums-part#*',
    ]);
  });

  it('lets the download worker delete its transfer lease, a purged asset’s master-user item, its key claim, replaced parts of the Shared Albums list, and under mirror its object count and recorded key', () => {
    expect(deletableItems(keep, 'workers')).toEqual([
      'lock#transfer#*',
      'master#*',
      'key#*',
      'shared-albums-part#*',
    ]);
    expect(deletableItems(mirror, 'workers')).toEqual([
      'lock#transfer#*',
      'master#*',
      'key#*',
      'shared-albums-part#*',
      'object#*',
      'objectKey#*',
    ]);
  });

  it('names the item patterns the state store really uses', () => {
    const like = (pattern: string) => new RegExp(`^${pattern.replace('*', '.*')}$`);
    expect(keys.lock('detect').pk).toMatch(like(DELETABLE_STATE_ITEMS.runLock));
    expect(keys.lock(transferLockName('2024/01/IMG_1.HEIC')).pk).toMatch(
      like(DELETABLE_STATE_ITEMS.transferLease),
    );
    expect(
      keys.masterUser('M1', { zone: { zoneName: 'PrimarySync' }, assetRecordName: 'A1' } as never).pk,
    ).toMatch(like(DELETABLE_STATE_ITEMS.masterUser));
    expect(keys.keyClaim('2024/01/IMG_1.HEIC').pk).toMatch(like(DELETABLE_STATE_ITEMS.keyClaim));
    expect(keys.countedObject('2024/01/IMG_1.HEIC').pk).toMatch(like(DELETABLE_STATE_ITEMS.countedObject));
    expect(keys.objectKey('M1/original/c1').pk).toMatch(like(DELETABLE_STATE_ITEMS.objectKey));
    expect(
      keys.albumMember({ zone: { zoneName: 'PrimarySync' }, recordName: 'AL1' } as never, 'A1').pk,
    ).toMatch(like(DELETABLE_STATE_ITEMS.albumMember));
    expect(
      keys.assetAlbum({ zone: { zoneName: 'PrimarySync' }, recordName: 'AL1' } as never, 'A1').pk,
    ).toMatch(like(DELETABLE_STATE_ITEMS.albumMember));
    expect(
      keys.retry({ zone: { database: 'private', zoneName: 'PrimarySync' }, assetRecordName: 'A1' }).pk,
    ).toMatch(like(DELETABLE_STATE_ITEMS.failedRetry));
    expect(sharedAlbumsPartPartition('0f3c9a1e-5b7d-4c2a-9e8f-1a2b3c4d5e6f')).toMatch(
      like(DELETABLE_STATE_ITEMS.sharedAlbumsPart),
    );
    // The list itself stays undeletable.
    expect('shared-albums').not.toMatch(like(DELETABLE_STATE_ITEMS.sharedAlbumsPart));
    expect(
      keys.manifest({ zone: { zoneName: 'PrimarySync' }, assetRecordName: 'A1' } as never).pk,
    ).not.toMatch(/^(lock|master|key|object|zone)#?/);
  });
});

describe('session secret resource policy', () => {
  const policyOf = (synth: Synthesised) => {
    const policies = Object.values(resourcesOf(synth)).filter(
      (r) => r.Type === 'AWS::SecretsManager::ResourcePolicy',
    );
    expect(policies).toHaveLength(1);
    const properties = policies[0]!.Properties;
    expect(properties.SecretId).toEqual({ Ref: logicalIdOf(synth.stack, synth.stack.session.secret) });
    return (
      properties.ResourcePolicy as { Statement: (Statement & { Condition?: Props; Principal?: unknown })[] }
    ).Statement;
  };

  it('denies reading or writing the session to every principal but the two functions and the account’s people', () => {
    const statement = policyOf(keep);
    expect(statement).toHaveLength(1);
    const deny = statement[0]!;
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Resource: '*' });
    expect(actionsOf([deny]).sort()).toEqual([
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
    ]);
    const allowed = (deny.Condition as { ArnNotLike: { 'aws:PrincipalArn': unknown[] } }).ArnNotLike[
      'aws:PrincipalArn'
    ];
    const account = { Ref: 'AWS::AccountId' };
    const arn = (suffix: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', account, suffix]],
    });
    expect(allowed).toEqual([
      roleArn(keep, 'detector'),
      roleArn(keep, 'workers'),
      arn(':root'),
      arn(':user/*'),
      arn(':role/aws-reserved/sso.amazonaws.com/*'),
    ]);
  });

  it('adds the administrator ARNs the deployment names (a person signing in through another role)', () => {
    const deny = policyOf(mirror)[0]!;
    const allowed = (deny.Condition as { ArnNotLike: { 'aws:PrincipalArn': unknown[] } }).ArnNotLike[
      'aws:PrincipalArn'
    ];
    expect(allowed).toHaveLength(6);
    expect(allowed.at(-1)).toBe('arn:aws:iam::*:role/PhotosAdmin');
  });

  it('never denies changing or removing the policy itself, so nobody is locked out for good', () => {
    for (const synth of [keep, mirror]) {
      const denied = actionsOf(policyOf(synth));
      for (const action of [
        'secretsmanager:DeleteResourcePolicy',
        'secretsmanager:PutResourcePolicy',
        'secretsmanager:DescribeSecret',
        'secretsmanager:*',
      ])
        expect(denied).not.toContain(action);
    }
  });

  it('keeps PutSecretValue on both functions: each saves the session it refreshed', () => {
    for (const fn of ['detector', 'workers'] as const) {
      expect(
        actions(keep, fn)
          .filter((a) => a.startsWith('secretsmanager:'))
          .sort(),
      ).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
      ]);
    }
  });
});
