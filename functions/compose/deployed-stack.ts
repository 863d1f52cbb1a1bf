/**
 * The CLI's view of a deployed stack: its outputs (CloudFormation) and its session secret
 * (Secrets Manager), with SDK clients from the default credential chain and region
 * (AWS_PROFILE, AWS_REGION...). The bucket and table side is `openAwsArchive`.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DEFAULT_STACK_NAME,
  type DeployedStack,
  describeDeployedStack,
} from '#adapters/aws/deployed-stack.ts';

export { DEFAULT_STACK_NAME };

import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import type { SessionStore } from '#ports/session-store.ts';

/**
 * Which AWS account and region the CLI's `--aws` commands talk to: `--region` and `--profile`,
 * else the default chain (AWS_REGION, AWS_PROFILE, ~/.aws/config).
 */
export interface AwsAccount {
  readonly region?: string;
  readonly profile?: string;
}

/** The SDK client configuration for `account` (nothing set: the default chain decides). */
export function awsClientConfig(account: AwsAccount = {}): { region?: string; profile?: string } {
  return {
    ...(account.region === undefined ? {} : { region: account.region }),
    ...(account.profile === undefined ? {} : { profile: account.profile }),
  };
}

/** The deployed stack's outputs (`IcloudS3` unless named). */
export function describeStack(
  stackName: string = DEFAULT_STACK_NAME,
  account: AwsAccount = {},
): Promise<DeployedStack> {
  return describeDeployedStack(new CloudFormationClient(awsClientConfig(account)), stackName);
}

/**
 * The deployed pipeline's session secret, read fresh on every load (no cache: a CLI run writes
 * it once and must see what the Lambdas wrote).
 */
export function deployedSessionStore(secretId: string, account: AwsAccount = {}): SessionStore {
  return new SecretsManagerSessionStore({
    client: new SecretsManagerClient(awsClientConfig(account)),
    secretId,
    cacheTtlMs: 0,
  });
}
