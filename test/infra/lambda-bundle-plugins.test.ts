import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { sdkClientPackageVersionOnly, sdkJsHashFallbacksLeftOut } from '../../infra/lambda-bundle.ts';

/**
 * The esbuild plugins of the Lambda bundles, each on the very file it rewrites (the bundles as a
 * whole are run by test/e2e/lambda-bundle.test.ts and measured by bundles.test.ts).
 */
const repositoryRoot = join(import.meta.dirname, '..', '..');
const requireHere = createRequire(join(repositoryRoot, 'package.json'));

/** The root directory of the installed package `specifier` (`@scope/name`). */
function packageDir(specifier: string): string {
  let dir = dirname(requireHere.resolve(specifier));
  while (!dir.endsWith(join('node_modules', ...specifier.split('/').slice(0, 2)))) dir = dirname(dir);
  return dir;
}

/** Bundles `source` (resolved from `resolveDir`) with `plugin` and imports the result. */
async function bundleAndImport(
  source: string,
  resolveDir: string,
  plugin: Plugin,
): Promise<Record<string, unknown>> {
  const result = await build({
    stdin: { contents: source, resolveDir, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    plugins: [plugin],
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as Record<
    string,
    unknown
  >;
}

describe('the Lambda bundles’ esbuild plugins', () => {
  it.each(['client-s3', 'client-dynamodb', 'client-sqs', 'client-secrets-manager'])(
    "keeps of @aws-sdk/%s's package.json the name and version its runtime config reads",
    async (client) => {
      const dir = packageDir(`@aws-sdk/${client}`);
      const real = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      const bundled = await bundleAndImport(
        // As dist-es/runtimeConfig.js imports it.
        'import packageInfo from "../package.json"; export default packageInfo;',
        join(dir, 'dist-es'),
        sdkClientPackageVersionOnly,
      );
      expect(bundled['default']).toEqual({ name: real['name'], version: real['version'] });
      // The only field the client's Node build reads.
      const runtimeConfig = readFileSync(join(dir, 'dist-es', 'runtimeConfig.js'), 'utf8');
      expect([...runtimeConfig.matchAll(/packageInfo\.(\w+)/g)].map((m) => m[1])).toEqual(['version']);
    },
  );

  it.each([
    ['@smithy/core', 'dist-es/submodules/checksum/sha256/Sha256Node.js', 'Sha256Node', 'Sha256Js'],
    ['@smithy/core', 'dist-es/submodules/checksum/md5/Md5Node.js', 'Md5Node', 'Md5Js'],
    ['@aws-sdk/checksums', 'dist-es/submodules/sha/sha1/Sha1Node.js', 'Sha1Node', 'Sha1Js'],
  ])('keeps %s %s on Node crypto and its JS fallback out', async (pkg, file, nodeClass, jsClass) => {
    const dir = packageDir(pkg);
    const bundled = await bundleAndImport(
      `export { ${nodeClass} } from "./${file}"; export { ${jsClass} } from "./${file.replace(nodeClass, jsClass)}";`,
      dir,
      sdkJsHashFallbacksLeftOut,
    );
    const Native = bundled[nodeClass] as new () => {
      update(data: Uint8Array): void;
      digest(): Promise<Uint8Array>;
    };
    const Fallback = bundled[jsClass] as new () => unknown;
    // This Node has the algorithm, so the native class is the one the SDK uses: it hashes.
    const hash = new Native();
    hash.update(new Uint8Array([1, 2, 3]));
    expect((await hash.digest()).length).toBeGreaterThan(0);
    expect(() => new Fallback()).toThrow(`${jsClass}: this Lambda bundle leaves out`);
  });
});
