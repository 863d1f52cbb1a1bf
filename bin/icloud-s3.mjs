#!/usr/bin/env node
// Runs the compiled CLI, dist/cli.mjs (built by `npm run build`, which `npm ci` runs as `prepare`),
// when it is at least as new as every source file under functions/ and simulator/ and
// package.json. Otherwise (no build yet, or a developer has edited a source since) it runs the
// TypeScript through tsx, so the current code always runs: edit, run, and rebuild only for speed.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// The CLI's only WebAssembly is the HTTP parser of Node's fetch (undici's llhttp), compiled at the
// first request to Apple. V8's optimising tier for it cost about 30 MB at that moment, a quarter of
// an idle sync's peak (issue 12: <= 120 MB), for a parser that reads a few API answers per run
// (the CDN's bytes go through node:http). Its baseline tier parses them as well.
setFlagsFromString('--liftoff-only');

const root = fileURLToPath(new URL('..', import.meta.url));

function mtimeMs(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestSourceMs() {
  let newest = mtimeMs(`${root}package.json`) ?? 0;
  for (const dir of ['functions', 'simulator']) {
    for (const entry of readdirSync(`${root}${dir}`, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      newest = Math.max(newest, mtimeMs(`${entry.parentPath ?? entry.path}/${entry.name}`) ?? 0);
    }
  }
  return newest;
}

const built = mtimeMs(`${root}dist/cli.mjs`);
let main;
if (built !== undefined && built >= newestSourceMs()) {
  ({ main } = await import('../dist/cli.mjs'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../functions/cli/main.ts'));
}
process.exitCode = await main(process.argv);
