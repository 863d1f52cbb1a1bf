// esbuild's options for the compiled CLI, shared by scripts/build-cli.mjs (which builds dist/)
// and test/unit/cli-build.test.ts (which checks what a local sync loads from it).
import { readFile } from 'node:fs/promises';

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
