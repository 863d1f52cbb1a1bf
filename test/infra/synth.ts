import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { type InfraConfig, loadInfraConfig } from '../../infra/config.ts';
import { IcloudS3Stack } from '../../infra/icloud-s3-stack.ts';

/** Builds a config from context values (keys without the `icloudS3:` prefix), as cdk.json would. */
export function configFrom(context: Record<string, unknown> = {}): InfraConfig {
  return loadInfraConfig((key) => context[key.replace(/^icloudS3:/, '')], {});
}

export interface Synthesised {
  readonly stack: IcloudS3Stack;
  readonly template: Template;
}

/** Synthesises the stack once (slow: bundling + synth, several seconds); share it across a file. */
export function synthesise(context: Record<string, unknown> = {}): Synthesised {
  const app = new App();
  const stack = new IcloudS3Stack(app, 'Test', {
    config: configFrom(context),
  });
  return { stack, template: Template.fromStack(stack) };
}

/**
 * Synthesises with cdk-nag's AwsSolutions rules as a CDK validation plugin, as infra/app.ts does,
 * and returns the findings that no acknowledgement covers (empty when the stack is clean).
 */
export function unacknowledgedNagFindings(context: Record<string, unknown> = {}): string[] {
  const outdir = mkdtempSync(join(tmpdir(), 'icloud-s3-cdk-out-'));
  const app = new App({ outdir });
  new IcloudS3Stack(app, 'Nag', { config: configFrom(context) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
    return [];
  } catch (error) {
    return [String(error)];
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The template's logical id of an L2 construct (its default child). */
export function logicalIdOf(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every IAM statement attached to `role` by the stack's inline policies. */
export function statementsOfRole(template: Template, stack: Stack, role: IConstruct): Statement[] {
  const roleId = logicalIdOf(stack, role);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
    Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } };
  }[];
  return policies
    .filter((policy) => policy.Properties.Roles.some((ref) => ref.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** The actions of `statements`, flattened. */
export function actionsOf(statements: readonly Statement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

/** Every optional setting turned on, as cdk.json context would (strings as from `cdk -c`). */
export const ALL_OPTIONS = {
  stackName: 'PhotosJane',
  alarmEmail: 'jane@example.com',
  scheduleMinutes: '60',
  downloadConcurrency: 3,
  deletePolicy: 'mirror',
  kmsEncryption: 'true',
  objectLockMode: 'governance',
  objectLockDays: 365,
  noncurrentExpiryDays: 180,
  transitionClass: 'GLACIER_IR',
  transitionDays: 30,
  noSyncAlarmHours: 24,
  logRetentionDays: 90,
};
