import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
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
 * Who writes: both functions. In practice both refresh the session: either may find it
 * expired mid-run, re-validate it (accountLogin), and save the refreshed cookies, so the next
 * invocation does not sign in to Apple again (spec §8: every worker must share one session
 * rather than each signing in). Writes are compare-and-set on the secret's version, so two
 * writers cannot silently overwrite a newer session. The grant is PutSecretValue only: no
 * UpdateSecret, no DeleteSecret, no rotation or policy changes.
 */
export class SessionSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: SessionSecretProps) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description: `iCloud session for icloud-s3 stack ${props.stackName}. Created empty: run "icloud-s3 login --aws --stack ${props.stackName}" to sign in.`,
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
}
