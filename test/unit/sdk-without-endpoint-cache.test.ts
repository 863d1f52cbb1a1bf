import { EndpointCache as RealEndpointCache } from '@aws-sdk/endpoint-cache';
import { describe, expect, it } from 'vitest';
import { EndpointCache, EndpointCacheLeftOutError } from '#adapters/aws/sdk-without-endpoint-cache.ts';

const methodsOf = (prototype: object) =>
  Object.getOwnPropertyNames(prototype)
    .filter((name) => name !== 'constructor')
    .sort();

describe('the endpoint cache the Lambda bundles use in place of the SDK one', () => {
  it('has every method of the real cache', () => {
    expect(methodsOf(EndpointCache.prototype)).toEqual(methodsOf(RealEndpointCache.prototype));
  });

  it('is built as the DynamoDB client builds it, and refuses every use, loudly', () => {
    const cache = new EndpointCache();
    expect(() => cache.getEndpoint('k')).toThrow(EndpointCacheLeftOutError);
    expect(() => cache.get('k')).toThrow(EndpointCacheLeftOutError);
    expect(() => cache.set('k', [])).toThrow(EndpointCacheLeftOutError);
    expect(() => cache.has('k')).toThrow(EndpointCacheLeftOutError);
    expect(() => cache.delete('k')).toThrow(EndpointCacheLeftOutError);
    expect(() => cache.clear()).toThrow(/leaves out the AWS SDK endpoint cache/);
  });
});
