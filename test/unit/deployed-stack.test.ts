import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { describeDeployedStack } from '#adapters/aws/deployed-stack.ts';
import { InvalidInputError } from '#domain/errors.ts';

// No CloudFormation server exists offline: the SDK edge is mocked, nothing else.
const cloudFormation = mockClient(CloudFormationClient);
const client = new CloudFormationClient({ region: 'eu-west-1' });

const outputs = {
  ArchiveBucketName: 'icloud-s3-archive-abc',
  StateTableName: 'IcloudS3-State-123',
  WorkQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/IcloudS3-Work',
  DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/IcloudS3-Dlq',
  SessionSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SessionSecret-AbCdEf',
  DashboardUrl: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home',
};

afterEach(() => {
  cloudFormation.reset();
});

describe('describeDeployedStack', () => {
  it("reads the bucket, table, queues and session secret from the stack's outputs", async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'IcloudS3' }).resolves({
      Stacks: [
        {
          StackName: 'IcloudS3',
          CreationTime: new Date(0),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    });
    await expect(describeDeployedStack(client, 'IcloudS3')).resolves.toEqual({
      stackName: 'IcloudS3',
      bucket: outputs.ArchiveBucketName,
      table: outputs.StateTableName,
      queueUrl: outputs.WorkQueueUrl,
      deadLetterQueueUrl: outputs.DeadLetterQueueUrl,
      sessionSecretId: outputs.SessionSecretArn,
    });
  });

  it('names the stack and what to check when it does not exist', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
    const failure = describeDeployedStack(client, 'Nope');
    await expect(failure).rejects.toBeInstanceOf(InvalidInputError);
    await expect(failure).rejects.toThrow(/no CloudFormation stack named Nope.*AWS_PROFILE and AWS_REGION/);
  });

  it('says which output is missing when the stack is not an icloud-s3 stack', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: 'Other', CreationTime: new Date(0), StackStatus: 'CREATE_COMPLETE', Outputs: [] },
      ],
    });
    await expect(describeDeployedStack(client, 'Other')).rejects.toThrow(/has no output ArchiveBucketName/);
  });
});
