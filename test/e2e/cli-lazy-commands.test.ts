/**
 * `icloud-s3 --help`, `--version` and `<cmd> --help` load only what they print (issue 12): no
 * command module for the program's help, and no AWS SDK, simulator or local servers for a
 * command's. A module-resolution hook in the CLI's process writes every module it loads to a file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'functions/cli/main.ts');

/** Registers a resolve hook (on Node's loader thread) that appends each resolved URL to LOADED_LOG. */
const HOOK = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.LOADED_LOG, resolved.url + '\\\\n');
  return resolved;
}\`));
`)}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-lazy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadedBy(args: readonly string[]): Promise<string[]> {
  const log = join(dir, `${args.join('-')}.log`);
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', HOOK, CLI, ...args],
      { cwd: ROOT, env: { ...process.env, LOADED_LOG: log } },
      (error) => (error === null ? resolve() : reject(error)),
    );
  });
  return (await readFile(log, 'utf8')).split('\n').filter((url) => url !== '');
}

const HEAVY = ['/node_modules/@aws-sdk/', '/simulator/', '/functions/local/', '/functions/compose/'];
const heavy = (urls: readonly string[]) => urls.filter((url) => HEAVY.some((part) => url.includes(part)));

describe('what the CLI loads to print help', () => {
  it('loads no command for the program help or the version', async () => {
    for (const args of [['--help'], ['--version']]) {
      const urls = await loadedBy(args);
      expect(urls.some((url) => url.endsWith('/functions/cli/main.ts'))).toBe(true);
      expect(urls.filter((url) => url.includes('/functions/cli/commands/'))).toEqual([]);
      expect(heavy(urls)).toEqual([]);
      expect(urls.filter((url) => url.includes('/node_modules/zod/'))).toEqual([]);
    }
  });

  it('loads the named command but not its work for sync, library and local serve help', async () => {
    for (const args of [
      ['sync', '--help'],
      ['library', '--help'],
      ['local', 'serve', '--help'],
    ]) {
      const urls = await loadedBy(args);
      expect(urls.some((url) => url.includes('/functions/cli/commands/'))).toBe(true);
      expect(heavy(urls).filter((url) => !url.includes('/functions/compose/cli.ts'))).toEqual([]);
    }
  });
});
