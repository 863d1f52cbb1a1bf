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

/** The deployed stack's outputs (`IcloudS3` unless named). */
export function describeStack(stackName: string = DEFAULT_STACK_NAME): Promise<DeployedStack> {
  return describeDeployedStack(new CloudFormationClient({}), stackName);
}

/**
 * The deployed pipeline's session secret, read fresh on every load (no cache: a CLI run writes
 * it once and must see what the Lambdas wrote).
 */
export function deployedSessionStore(secretId: string): SessionStore {
  return new SecretsManagerSessionStore({ client: new SecretsManagerClient({}), secretId, cacheTtlMs: 0 });
}
