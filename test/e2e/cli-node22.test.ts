/**
 * The CLI as `npx icloud-s3` runs it (bin/icloud-s3.mjs, the compiled dist/ that `npm ci` builds)
 * on Node 22 too: the README promises Node >= 20.19, and the suite itself runs on one Node (20 on
 * CI). A smoke check that the entry and a command's own chunk load and print on 22 what they print
 * on the tests' Node. Node 22 as test/helpers/node22.ts finds it (linux-x64; elsewhere a skip
 * that says so).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE22_PLATFORM, NODE22_VERSION, node22Absence, node22Binary } from '#test/helpers/node22.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'icloud-s3.mjs');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(node: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      node,
      [BIN, ...args],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const node22 = node22Binary();

describe(`the CLI on Node 22 (${NODE22_VERSION})`, () => {
  it.for(['--version', '--help', 'sync --help'])(
    "icloud-s3 %s prints what it prints on the tests' Node, and exits 0",
    async (command, context) => {
      if (node22 === undefined) {
        if (NODE22_PLATFORM) throw new Error(node22Absence());
        console.warn(`cli-node22: not run on Node 22 here: ${node22Absence()}`);
        context.skip(node22Absence());
        return;
      }
      const args = command.split(' ');
      const [on22, onThis] = await Promise.all([cli(node22, args), cli(process.execPath, args)]);
      expect(on22.stderr).toBe('');
      expect(on22.code).toBe(0);
      expect(on22.stdout).not.toBe('');
      expect(on22.stdout).toBe(onThis.stdout);
    },
  );
});
