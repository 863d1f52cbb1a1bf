// esbuild's options for the compiled CLI, shared by scripts/build-cli.mjs (which builds dist/)
// and test/unit/cli-build.test.ts (which checks what a local sync loads from it).
import { readFile } from 'node:fs/promises';

/**
 * Dev dependencies the CLI runs that bundle cleanly (see `external` below): s3rver, and the XML
 * parser it ships with, which the local S3's CompleteMultipartUpload check reads its body with.
 */
const BUNDLED_DEV_DEPENDENCIES = new Set(['s3rver', 'fast-xml-parser']);

/** esbuild's options for the CLI of the repository at `root`. */
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
    // s3rver is bundled too, into the child's entry (dist/s3rver-process.mjs), the only module that
    // imports it: Node loaded its CommonJS tree (koa, winston, lodash...) file by file, about 600
    // modules and 140-190 ms of the child's start, which a first sync's first page waits for.
    // Nothing of it reads files beside its sources.
    external: Object.keys(devDependencies)
      .filter((name) => !BUNDLED_DEV_DEPENDENCIES.has(name))
      .flatMap((name) => [name, `${name}/*`]),
    mainFields: ['module', 'main'],
    // ESM output has no `require`; some bundled CommonJS dependencies still call it (node: builtins).
    banner: {
      js: "import { createRequire as __icloudS3CreateRequire } from 'node:module'; const require = __icloudS3CreateRequire(import.meta.url);",
    },
    sourcemap: true,
    logLevel: 'warning',
  };
}
