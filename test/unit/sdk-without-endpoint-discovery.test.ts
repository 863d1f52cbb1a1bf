/**
 * The bundles' stand-in for `@aws-sdk/middleware-endpoint-discovery`: a DynamoDB client built
 * with it has discovery off and no endpoint cache, whatever the environment says.
 */
import { describe, expect, it } from 'vitest';
import {
  NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS,
  resolveEndpointDiscoveryConfig,
} from '#adapters/aws/sdk-without-endpoint-discovery.ts';

describe('the endpoint-discovery stand-in', () => {
  it('resolves discovery off, without a cache, keeping the command it is given', async () => {
    const command = class DescribeEndpoints {};
    const config = resolveEndpointDiscoveryConfig(
      { region: 'eu-west-1' },
      { endpointDiscoveryCommandCtor: command },
    );

    expect(await config.endpointDiscoveryEnabled()).toBe(false);
    expect(config.isClientEndpointDiscoveryEnabled).toBe(false);
    expect(config.endpointDiscoveryCommandCtor).toBe(command);
    expect('endpointCache' in config).toBe(false);
  });

  it('reads no environment variable or shared config entry: discovery stays off', () => {
    expect(NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.environmentVariableSelector()).toBe(false);
    expect(NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.configFileSelector()).toBe(false);
    expect(NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.default).toBe(false);
  });
});
