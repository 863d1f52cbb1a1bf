import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { AssetHashType, DockerImage, type Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  type IGrantable,
  type IPrincipal,
  type PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, type EnvName, METRICS } from '../functions/shared/env-names.ts';
import type { InfraConfig } from './config.ts';

/** Where the handler sources live and how they are bundled. */
export interface FunctionSource {
  /** Absolute path of the handler entry file. */
  readonly entry: string;
  /** Repository root (the entry must be under it). */
  readonly projectRoot: string;
}

/**
 * The function's code: its bundle (infra/lambda-bundle.ts), built by a local esbuild in a child
 * process and named by the hash of what it built, so an unchanged bundle is not uploaded again.
 * There is no Docker fallback: the image is never pulled, a failed local build fails the synth.
 */
function bundledCode(source: FunctionSource): Code {
  return Code.fromAsset(source.projectRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('local-bundling-only'),
      // What the local step runs, for the record; it also tells CDK's bundling cache (keyed on
      // these options, not on the local step) one function's bundle from another's.
      command: ['infra/bundle-lambda.ts', relative(source.projectRoot, source.entry)],
      local: {
        tryBundle(outputDir: string): boolean {
          const script = join(source.projectRoot, 'infra', 'bundle-lambda.ts');
          const built = spawnSync(
            process.execPath,
            ['--import', 'tsx', script, source.projectRoot, source.entry, outputDir],
            { cwd: source.projectRoot, stdio: ['ignore', 'inherit', 'inherit'] },
          );
          if (built.status !== 0) throw new Error(`bundling ${source.entry} failed (exit ${built.status})`);
          return true;
        },
      },
    },
  });
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
 * local esbuild (no Docker, infra/lambda-bundle.ts) with a source map kept beside it (not loaded
 * at run time), its own log group with a retention, a role that starts with nothing but writing
 * to that log group, and the Powertools environment. Access to anything else is added by the
 * construct that owns the resource, together with the env var that names it (`addEnvironment`
 * beside `addToRolePolicy`).
 */
export class PipelineFunction extends Construct implements IGrantable {
  readonly function: LambdaFunction;
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

    this.function = new LambdaFunction(this, 'Function', {
      code: bundledCode(props.source),
      // `handler` exported by the bundle's index.mjs.
      handler: 'index.handler',
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
  fn.addEnvironment(ENV.maxDeleteCount, String(config.maxDeleteCount));
  fn.addEnvironment(ENV.versionPolicy, config.versionPolicy);
  fn.addEnvironment(ENV.liveVideoName, config.liveVideoName);
  fn.addEnvironment(ENV.sharedAlbums, config.sharedAlbums ? 'on' : 'off');
  fn.addEnvironment(ENV.sharedAlbumsEveryMinutes, String(config.sharedAlbumsEveryMinutes));
  fn.addEnvironment(ENV.xmpSidecars, String(config.xmpSidecars));
}
