/**
 * What the Lambda bundles put in place of `@aws-sdk/endpoint-cache` (an esbuild alias,
 * infra/lambda-bundle-aliases.ts): the cache of DynamoDB's discovered endpoints, an LRU from
 * mnemonist (7.7 KB of each bundle with its helpers). The DynamoDB client built one at
 * construction (`resolveEndpointDiscoveryConfig`), but none of its commands installs the
 * endpoint-discovery middleware that would read it (test/infra/bundles.test.ts checks that the
 * middleware is not in the bundles), so nothing ever did; the bundles' stand-in for those settings
 * (`sdk-without-endpoint-discovery.ts`) now builds none, and this one stays for any other importer.
 *
 * The client still builds it (construction must not fail); any use throws
 * `EndpointCacheLeftOutError`. The CLI, the local runtime and the tests keep the real module.
 */

/** Thrown when a bundled SDK client reads or writes discovered endpoints. */
export class EndpointCacheLeftOutError extends Error {
  constructor() {
    super(
      'this Lambda bundle leaves out the AWS SDK endpoint cache (infra/lambda-bundle-aliases.ts): ' +
        'endpoint discovery needs it back',
    );
    this.name = 'EndpointCacheLeftOutError';
  }
}

function leftOut(): never {
  throw new EndpointCacheLeftOutError();
}

/** Same name and methods as the module's (its capacity argument is ignored); every method refuses. */
export class EndpointCache {
  getEndpoint(_key: string): never {
    return leftOut();
  }
  get(_key: string): never {
    return leftOut();
  }
  set(_key: string, _endpoints: unknown): never {
    return leftOut();
  }
  delete(_key: string): never {
    return leftOut();
  }
  has(_key: string): never {
    return leftOut();
  }
  clear(): never {
    return leftOut();
  }
}
