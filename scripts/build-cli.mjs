#!/usr/bin/env node
// Compiles the CLI into dist/ (npm's `prepare` runs this on `npm ci`, so a fresh clone has it):
// ESM for Node 20, one chunk per command (main.ts imports commands lazily, so `--help` reads only
// the small entry chunk). Packages stay external: node_modules is there at run time, and s3rver,
// dynalite and local-aws-sqs resolve files of their own relative to themselves. The s3rver child
// process is its own entry point, dist/s3rver-process.mjs, beside the chunk that forks it
// (functions/local/servers/s3-server.ts picks the .mjs when it runs compiled).
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

await rm(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'functions/cli/main.ts',
    's3rver-process': 'functions/local/servers/s3rver-process.ts',
    // The local DynamoDB's thread, loaded by file name beside the chunk that starts it.
    'dynamodb-thread': 'functions/local/servers/dynamodb-thread.mjs',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
