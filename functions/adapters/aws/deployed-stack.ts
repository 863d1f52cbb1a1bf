/**
 * Finds a deployed icloud-s3 stack's resources from its CloudFormation outputs, so commands on
 * the user's machine (`login --aws`, `status --aws`) need only the stack name.
 */
import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { InvalidInputError } from '../../domain/errors.ts';

export interface DeployedStack {
  readonly stackName: string;
  readonly bucket: string;
  readonly table: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly sessionSecretId: string;
}

/** The output keys `infra/icloud-s3-stack.ts` declares. */
const OUTPUTS = {
  bucket: 'ArchiveBucketName',
  table: 'StateTableName',
  queueUrl: 'WorkQueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  sessionSecretId: 'SessionSecretArn',
} as const;

export async function describeDeployedStack(
  client: CloudFormationClient,
  stackName: string,
): Promise<DeployedStack> {
  let described: DescribeStacksCommandOutput;
  try {
    described = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ValidationError') {
      throw new InvalidInputError(
        `no CloudFormation stack named ${stackName} in this account and region: check --stack, AWS_PROFILE and AWS_REGION`,
        { cause: error },
      );
    }
    throw error;
  }
  const outputs = new Map((described.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const read = (key: string): string => {
    const value = outputs.get(key);
    if (value === undefined || value === '') {
      throw new InvalidInputError(
        `stack ${stackName} has no output ${key}: is it an icloud-s3 stack, fully deployed?`,
      );
    }
    return value;
  };
  return {
    stackName,
    bucket: read(OUTPUTS.bucket),
    table: read(OUTPUTS.table),
    queueUrl: read(OUTPUTS.queueUrl),
    deadLetterQueueUrl: read(OUTPUTS.deadLetterQueueUrl),
    sessionSecretId: read(OUTPUTS.sessionSecretId),
  };
}

export { DEFAULT_STACK_NAME } from '../../shared/env-names.ts';
