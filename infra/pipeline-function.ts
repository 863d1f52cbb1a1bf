import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  type IGrantable,
  type IPrincipal,
  type PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, type EnvName, METRICS } from '../functions/shared/env-names.ts';
import type { InfraConfig } from './config.ts';
import { lambdaBundleAliases } from './lambda-bundle-aliases.ts';

/** Where the handler sources live and how they are bundled. */
export interface FunctionSource {
  /** Absolute path of the handler entry file. */
  readonly entry: string;
  /** Repository root (the entry must be under it). */
  readonly projectRoot: string;
  /** package-lock.json used for the asset hash and module resolution. */
  readonly depsLockFilePath: string;
}

export interface PipelineFunctionProps {
  readonly source: FunctionSource;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: RetentionDays;
  /** Powertools service name: the `service` dimension of every metric the alarms watch. */
  readonly serviceName: string;
  readonly reservedConcurrentExecutions?: number;
  /** Async invocations (EventBridge) only: how many times Lambda retries a failed event. */
  readonly retryAttempts?: number;
  readonly maxEventAge?: Duration;
}

/**
 * The one way this stack builds a Lambda function: Node.js 22 on arm64, an ESM bundle made by
 * local esbuild (no Docker) with a source map kept beside it (not loaded at run time), its own
 * log group with a retention, a role that starts with nothing but writing to that log group,
 * and the Powertools environment. Access to anything else is added by the construct that owns
 * the resource, together with the env var that names it (`addEnvironment` beside
 * `addToRolePolicy`).
 */
export class PipelineFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Logs are diagnostics, not the archive: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy may write to
    // any log group; this one may write only to its own.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.source.entry,
      projectRoot: props.source.projectRoot,
      depsLockFilePath: props.source.depsLockFilePath,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
      // No `--enable-source-maps`: it costs every cold start about 0.17 CPU-s and 23 MiB. The map
      // is still written beside the bundle (the asset); stack traces are decoded offline with
      // scripts/decode-stack.mjs (docs/deploy.md, "Reading a stack trace").
      environment: {
        [ENV.serviceName]: props.serviceName,
        [ENV.metricsNamespace]: METRICS.namespace,
        [ENV.logLevel]: 'INFO',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        sourceMap: true,
        minify: true,
        forceDockerBundling: false,
        mainFields: ['module', 'main'],
        // Bundle the AWS SDK too: the code is tested against the pinned SDK versions in
        // package-lock.json, not whichever SDK the Lambda runtime happens to ship this month.
        externalModules: [],
        // Same bundle, less of it: lambda-bundle-aliases.ts says what is substituted and why.
        esbuildArgs: Object.fromEntries(
          Object.entries(lambdaBundleAliases(props.source.projectRoot)).map(([from, to]) => [
            `--alias:${from}`,
            to,
          ]),
        ),
        // ESM bundles have no `require`; some CommonJS dependencies still call it.
        banner:
          "import { createRequire as __icloudS3CreateRequire } from 'node:module'; const require = __icloudS3CreateRequire(import.meta.url);",
      },
    });
  }

  get grantPrincipal(): IPrincipal {
    return this.role;
  }

  /** Sets a variable the handler's `loadConfig` reads. Call it beside the grant that makes it usable. */
  addEnvironment(name: EnvName, value: string): void {
    this.function.addEnvironment(name, value);
  }

  addToRolePolicy(statement: PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}

/**
 * The user's sync settings, identical in every function so the detector (which plans) and the
 * workers (which act) never disagree about what to archive or delete.
 */
export function setSyncSettings(fn: PipelineFunction, config: InfraConfig): void {
  fn.addEnvironment(ENV.icloudEndpoint, config.icloudEndpoint);
  fn.addEnvironment(ENV.deletePolicy, config.deletePolicy);
  fn.addEnvironment(ENV.maxDeleteFraction, String(config.maxDeleteFraction));
  fn.addEnvironment(ENV.versionPolicy, config.versionPolicy);
  fn.addEnvironment(ENV.sharedAlbums, config.sharedAlbums ? 'on' : 'off');
  fn.addEnvironment(ENV.sharedAlbumsEveryMinutes, String(config.sharedAlbumsEveryMinutes));
  fn.addEnvironment(ENV.xmpSidecars, String(config.xmpSidecars));
}
