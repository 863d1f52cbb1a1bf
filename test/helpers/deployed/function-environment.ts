/**
 * A deployed function's environment as Lambda gives it: the variables the synthesized template
 * sets on the function, with the stack's resource names resolved to the local servers' (Apple's
 * endpoint is the caller's to point at the simulator). Shared by the tests that compose the
 * deployed functions against local servers (test/e2e/iam-covers-every-call.test.ts,
 * test/e2e/alarms-watch-emitted-metrics.test.ts).
 */
import type { LocalAwsEndpoints } from '#local/servers/client-config.ts';
import type { WorkQueueUrls } from '#local/servers/provision.ts';
import { type LocalResources, TemplateResolver } from '#test/helpers/iam/role-policy.ts';
import { logicalIdOf, type Synthesised } from '../../infra/synth.ts';

/** The stack's two functions, by their construct names on `IcloudS3Stack`. */
export type DeployedFunction = 'detector' | 'workers';

/** The local servers' names for the stack's resources, by the template's logical ids. */
export function localResourcesOf(
  synth: Synthesised,
  names: {
    readonly bucket: string;
    readonly table: string;
    readonly secretId: string;
    readonly queues: WorkQueueUrls;
  },
): LocalResources {
  const { stack } = synth;
  return {
    bucket: { logicalId: logicalIdOf(stack, stack.archive.bucket), name: names.bucket },
    table: { logicalId: logicalIdOf(stack, stack.state.table), name: names.table },
    queues: [
      { logicalId: logicalIdOf(stack, stack.work.queue), url: names.queues.queueUrl },
      { logicalId: logicalIdOf(stack, stack.work.deadLetterQueue), url: names.queues.deadLetterQueueUrl },
    ],
    secret: { logicalId: logicalIdOf(stack, stack.session.secret), id: names.secretId },
    ...(stack.archive.encryptionKey === undefined
      ? {}
      : { key: { logicalId: logicalIdOf(stack, stack.archive.encryptionKey) } }),
  };
}

/** `fn`'s environment variables in `synth`'s template, resolved to `local`. */
export function templateEnvironmentOf(
  synth: Synthesised,
  fn: DeployedFunction,
  local: LocalResources,
): Record<string, string> {
  const resolver = new TemplateResolver(local);
  const id = logicalIdOf(synth.stack, synth.stack[fn].fn.function);
  const resource = synth.template.toJSON().Resources[id] as {
    Properties: { Environment: { Variables: Record<string, unknown> } };
  };
  return Object.fromEntries(
    Object.entries(resource.Properties.Environment.Variables).map(([k, v]) => [k, resolver.env(v)]),
  );
}

/** The AWS SDK's own environment in Lambda: region, credentials, and (here) the local servers' endpoints. */
export function lambdaSdkEnvironment(endpoints: LocalAwsEndpoints): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
  };
}
