#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx icloud-s3` works from a checkout without a build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../functions/cli/main.ts');
process.exitCode = await main(process.argv);
