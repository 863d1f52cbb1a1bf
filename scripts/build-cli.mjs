#!/usr/bin/env node
// Compiles the CLI into dist/ (npm's `prepare` runs this on `npm ci`, so a fresh clone has it):
// ESM for Node 20, one chunk per command (main.ts imports commands lazily, so `--help` reads only
// the small entry chunk). The runtime dependencies (AWS SDK, zod, tough-cookie, Powertools,
// commander...) are bundled, their ESM builds, so each command loads only the code it uses: Node
// itself would load the SDK's CommonJS builds whole (about 20 MB of the idle run's memory was
// the DynamoDB client alone) and every zod locale. The devDependencies stay external: the local
// servers (s3rver, dynalite, local-aws-sqs) resolve files of their own relative to themselves.
// The s3rver child process is its own entry point, dist/s3rver-process.mjs, beside the chunk
// that forks it (functions/local/servers/s3-server.ts picks the .mjs when it runs compiled).
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** esbuild's options for the CLI of the repository at `root` (test/unit/cli-build.test.ts reads them too). */
export async function cliBuildOptions(root) {
  const { devDependencies } = JSON.parse(await readFile(`${root}/package.json`, 'utf8'));
  return {
    absWorkingDir: root,
    entryPoints: {
      cli: 'functions/cli/main.ts',
      's3rver-process': 'functions/local/servers/s3rver-process.ts',
    },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: Object.keys(devDependencies).flatMap((name) => [name, `${name}/*`]),
    mainFields: ['module', 'main'],
    // ESM output has no `require`; some bundled CommonJS dependencies still call it (node: builtins).
    banner: {
      js: "import { createRequire as __icloudS3CreateRequire } from 'node:module'; const require = __icloudS3CreateRequire(import.meta.url);",
    },
    sourcemap: true,
    logLevel: 'warning',
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  await rm(`${root}dist`, { recursive: true, force: true });
  await build(await cliBuildOptions(root));
}
