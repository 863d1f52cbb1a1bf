#!/usr/bin/env node
// Compiles the CLI into dist/ (npm's `prepare` runs this on `npm ci`, so a fresh clone has it):
// ESM for Node 20, one chunk per command (main.ts imports commands lazily, so `--help` reads only
// the small entry chunk). The runtime dependencies (AWS SDK, zod, tough-cookie, Powertools,
// commander...) are bundled, their ESM builds, so each command loads only the code it uses: Node
// itself would load the SDK's CommonJS builds whole (about 20 MB of the idle run's memory was
// the DynamoDB client alone) and every zod locale. The devDependencies stay external: the local
// servers dynalite and local-aws-sqs resolve files of their own relative to themselves. s3rver
// does not, and is bundled into its child process's entry (cli-build-options.mjs).
// The s3rver child process is its own entry point, dist/s3rver-process.mjs, beside the chunk
// that forks it (functions/local/servers/s3-server.ts picks the .mjs when it runs compiled).
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { cliBuildOptions } from './cli-build-options.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
await rm(`${root}dist`, { recursive: true, force: true });
await build(await cliBuildOptions(root));
