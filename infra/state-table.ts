import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV } from '../functions/shared/env-names.ts';
import type { PipelineFunction } from './pipeline-function.ts';

/** Item-level actions the pipeline's state store uses (transactions need the same actions). */
export const STATE_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

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

  /** Read and write items (no scans, no table management) and name the table in the function's env. */
  grantReadWrite(fn: PipelineFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: [...STATE_TABLE_ACTIONS], resources: [this.table.tableArn] }),
    );
    fn.addEnvironment(ENV.stateTable, this.table.tableName);
  }
}
