import { Aws, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type CfnSecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../functions/shared/env-names.ts';
import type { PipelineFunction } from './pipeline-function.ts';

export interface SessionSecretProps {
  readonly stackName: string;
}

/**
 * The iCloud session (cookie jar, trust token, service URLs). Created EMPTY: no value is generated
 * at deploy time, because only an interactive sign-in with two-factor can make one. The user fills
 * it with `icloud-s3 login --aws --stack <name>`; until then a read finds no current version,
 * which the session store reports as "never signed in". Retained with the stack so a redeploy
 * does not force a new two-factor sign-in.
 *
 * Who writes: both functions. The detector stores the cookies Apple rotated (after a run with
 * work, or every half hour when idle); either function may find the session expired mid-run,
 * re-validate it (accountLogin) and must then store the result, or every later invocation would
 * sign in to Apple again (all invocations share one session rather than each signing in). The
 * worker does both today (download handler: save in `finally`; open-session: save after a
 * refresh). Writes are compare-and-set on the secret's version, so two writers cannot silently
 * overwrite a newer session. The grant is PutSecretValue only: no UpdateSecret, no
 * DeleteSecret, no rotation or policy changes.
 *
 * Who else: the resource policy (`restrictTo`) denies reading and writing the value to every
 * principal but the two function roles and the account's people, so another workload in the
 * same account whose role has `secretsmanager:*` on `*` cannot read the Apple session.
 */
export class SessionSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: SessionSecretProps) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description: `iCloud session for icloud-s3 stack ${props.stackName}. Created empty: run "npx icloud-s3 login --aws --stack ${props.stackName}" to sign in.`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The L2 always asks CloudFormation to generate a random string; a random string is not a
    // session, so the secret is created without any value instead.
    (this.secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is an Apple session, not a credential AWS can rotate: the change detector refreshes it on every run and a human renews it with icloud-s3 login after two-factor.',
    });
  }

  /** Read the session and name the secret in the function's env. */
  grantRead(fn: PipelineFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [this.secret.secretArn],
      }),
    );
    fn.addEnvironment(ENV.sessionSecretId, this.secret.secretArn);
  }

  /** Read the session and store new versions of it (a function that refreshes it). */
  grantRefresh(fn: PipelineFunction): void {
    this.grantRead(fn);
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [this.secret.secretArn] }),
    );
  }

  /**
   * Denies GetSecretValue and PutSecretValue to every principal whose ARN is not one of: the
   * given functions' roles, the account root, an IAM user, an IAM Identity Center (SSO) role, or
   * one of `adminArns` (`icloudS3:sessionAdminArns`). The people stay in because
   * `icloud-s3 login --aws` writes the secret, and `status`/`verify` read it, with the owner's
   * own credentials. A Deny can only take away; each of those still needs an IAM Allow.
   * Nothing else is denied: DescribeSecret, UpdateSecret (CloudFormation changes the
   * description with it) and Put/DeleteResourcePolicy stay with whoever IAM allows, so an
   * administrator signing in through a role not listed can add it, or remove the policy, and is
   * never locked out for good.
   */
  restrictTo(fns: readonly PipelineFunction[], adminArns: readonly string[]): void {
    const account = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}`;
    this.secret.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        resources: ['*'],
        conditions: {
          ArnNotLike: {
            'aws:PrincipalArn': [
              ...fns.map((fn) => fn.role.roleArn),
              `${account}:root`,
              `${account}:user/*`,
              `${account}:role/aws-reserved/sso.amazonaws.com/*`,
              ...adminArns,
            ],
          },
        },
      }),
    );
  }
}
