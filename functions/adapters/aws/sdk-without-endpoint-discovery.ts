/**
 * What the Lambda bundles put in place of `@aws-sdk/middleware-endpoint-discovery` (an esbuild
 * alias, infra/lambda-bundle-aliases.ts). The DynamoDB client resolves its endpoint-discovery
 * settings at construction (`resolveEndpointDiscoveryConfig`, and the runtime config's
 * `NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS`), but none of its commands this code sends installs the
 * middleware that would use them (test/infra/bundles.test.ts checks it is not in the bundles).
 * In their place: discovery off, no endpoint cache (only that middleware reads one), and the
 * AWS_ENABLE_ENDPOINT_DISCOVERY variables not read. The CLI, the local runtime and the tests keep
 * the real module.
 */

const off = () => false;

/** Discovery off, whatever the environment or the shared config says. */
export const NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS = {
  environmentVariableSelector: off,
  configFileSelector: off,
  default: false,
};

/** The settings the client keeps: discovery off, no cache. */
export function resolveEndpointDiscoveryConfig<T extends object>(
  input: T,
  { endpointDiscoveryCommandCtor }: { endpointDiscoveryCommandCtor: unknown },
) {
  return Object.assign(input, {
    endpointDiscoveryCommandCtor,
    endpointDiscoveryEnabled: () => Promise.resolve(false),
    isClientEndpointDiscoveryEnabled: false,
  });
}
