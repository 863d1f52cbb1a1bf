/**
 * What the Lambda bundles use in place of `@aws-sdk/credential-provider-node` (an esbuild alias,
 * infra/lambda-bundle-aliases.ts): the SDK's default credential chain reduced to its first link,
 * the environment. Lambda always hands the function its role's credentials in
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, which is where the full chain
 * finds them too; the rest of the chain (profiles, SSO, web identity, the instance metadata
 * service and the STS/SSO clients they need) is 112 KB of every bundle that Lambda never runs.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** Same name and signature as the module it replaces; the SDK's clients import it by that name. */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
