import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV } from '../functions/shared/env-names.ts';
import type { PipelineFunction } from './pipeline-function.ts';

/**
 * Item-level actions the state store makes (functions/adapters/aws/dynamodb-sync-state-store.ts):
 * single-item reads and conditional writes, a Query, and batched reads (a work message's manifest
 * entries, enumeration stamps). Its transactions' Puts and Updates are authorized as PutItem and
 * UpdateItem; their checks (ConditionCheckItem) only on CONDITION_CHECKED_ITEMS. DeleteItem is
 * granted separately, limited to the items each function deletes (DELETABLE_STATE_ITEMS);
 * BatchWriteItem (which could delete too) only on BATCH_WRITTEN_ITEMS.
 */
export const STATE_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

/**
 * Items the store writes in batches, as patterns of their partition key: a work message's new
 * master users, a reconciling enumeration's stamps, and the markers of object counts applied to
 * the totals. Unconditional puts of small marker items.
 */
export const BATCH_WRITTEN_ITEMS = ['master#*', 'seen#*', 'counted#*'] as const;

/**
 * Items only the download workers write in batches, as patterns of their partition key: the items
 * of a Shared Album, a page of them per BatchWriteItem once the page's objects are stored
 * (functions/adapters/aws/dynamodb-shared-album-state-store.ts, `putItems`).
 */
export const WORKER_BATCH_WRITTEN_ITEMS = ['shared-item#*'] as const;

/**
 * Items a transaction checks without writing (`ConditionCheck`, which IAM authorizes as
 * dynamodb:ConditionCheckItem), as patterns of their partition key: the markers of object counts,
 * checked absent as a count is applied to the totals (docs/state.md, "Counting objects exactly once").
 */
export const CONDITION_CHECKED_ITEMS = ['counted#*'] as const;

/**
 * Items a function may delete, as patterns of their partition key (`dynamodb:LeadingKeys`):
 * both drop the replaced parts of the Shared Albums list; the detector releases the run lock; the worker releases the lease it took to store an object
 * (one download per object), and drops an album member when a photo leaves an album, and a failed photo off
 * its retry list; the worker, on a purge, drops the asset from its master's users and (under
 * `mirror`) releases the key claim of each object it deleted, forgets its recorded key and takes it out of the totals. The key layout is
 * functions/adapters/aws/state-items.ts; test/infra/least-privilege.test.ts keeps the two equal.
 */
export const DELETABLE_STATE_ITEMS = {
  runLock: 'lock#*',
  transferLease: 'lock#transfer#*',
  masterUser: 'master#*',
  keyClaim: 'key#*',
  countedObject: 'object#*',
  /** A `mirror` purge forgets the recorded key of each object it deleted (conditional on the key). */
  objectKey: 'objectKey#*',
  /** The detector removes an album's member when a photo leaves the album. */
  albumMember: 'albumMember#*',
  /**
   * The detector takes a failed photo off its retry list once it is archived, purged or gone
   * (`retry#…` items beside the zone states, so the Query that loads those brings them along;
   * IAM cannot tell the two apart by partition key, and the detector writes the zone states with
   * PutItem anyway: deleting one gives it nothing it could not already do).
   */
  failedRetry: 'zone',
  /**
   * Both functions save the Shared Albums list; a save that changes the gone albums writes them as
   * new parts and deletes the parts the replaced list named (`shared-albums-part#<id>`).
   */
  sharedAlbumsPart: 'shared-albums-part#*',
} as const;

/**
 * Sync tokens, checkpoints, the manifest of archived objects, run records and the run lock, in
 * one table keyed by `pk`/`sk` strings. On-demand (the load is bursty: a first sync, then a
 * trickle), point-in-time recovery on, deletion protection on, retained with the stack: losing
 * it would mean re-reading the whole library from Apple.
 */
export class StateTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Read and write items (no scans, no table management; batched writes and transaction checks only
   * on the items named above, and batched writes on `batchWritten` too), delete only the items whose
   * partition key matches one of `deletable` (patterns from DELETABLE_STATE_ITEMS), and name the
   * table in the function's env.
   */
  grantReadWrite(
    fn: PipelineFunction,
    deletable: readonly string[],
    options: { readonly batchWritten?: readonly string[] } = {},
  ): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: [...STATE_TABLE_ACTIONS], resources: [this.table.tableArn] }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:BatchWriteItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [...BATCH_WRITTEN_ITEMS, ...(options.batchWritten ?? [])],
          },
        },
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:ConditionCheckItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...CONDITION_CHECKED_ITEMS] } },
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...deletable] } },
      }),
    );
    fn.addEnvironment(ENV.stateTable, this.table.tableName);
  }
}
