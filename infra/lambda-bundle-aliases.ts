/**
 * Module substitutions of the Lambda bundles, shared by infra/pipeline-function.ts (CDK's esbuild
 * run), the bundle e2e test and the benchmark, so all three build the same artifact.
 */
import { join } from 'node:path';

/** esbuild `alias` map (absolute paths: esbuild resolves an alias from its working directory). */
export function lambdaBundleAliases(repositoryRoot: string): Record<string, string> {
  return {
    '@aws-sdk/credential-provider-node': join(
      repositoryRoot,
      'functions',
      'adapters',
      'aws',
      'environment-credentials.ts',
    ),
    // DynamoDB's cache of discovered endpoints (7.7 KB), which no command of this SDK reads.
    '@aws-sdk/endpoint-cache': join(
      repositoryRoot,
      'functions',
      'adapters',
      'aws',
      'sdk-without-endpoint-cache.ts',
    ),
    // DynamoDB's endpoint-discovery settings (0.8 KB): discovery off, as no command installs it.
    '@aws-sdk/middleware-endpoint-discovery': join(
      repositoryRoot,
      'functions',
      'adapters',
      'aws',
      'sdk-without-endpoint-discovery.ts',
    ),
    // The event-stream codec (15 KB) for operations that stream events, none of which we call.
    '@smithy/core/event-streams': join(
      repositoryRoot,
      'functions',
      'adapters',
      'aws',
      'sdk-without-event-streams.ts',
    ),
    // The whole Public Suffix List (124 KB) for a cookie jar that sees only Apple's hosts.
    tldts: join(repositoryRoot, 'functions', 'adapters', 'icloud', 'session', 'apple-hosts-public-suffix.ts'),
  };
}
