/**
 * `icloud-s3 --help`, `--version` and `<cmd> --help` load only what they print (issue 12): no
 * command module for the program's help, and no AWS SDK, simulator or local servers for a
 * command's. A sync that finds nothing new starts neither the local S3 nor the local SQS, and
 * loads none of their code. A module-resolution hook in the CLI's process writes every module it
 * loads to a file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '#cli/command-registry.ts';
import { runLocalSync } from '#local/local-sync.ts';
import { createLogger } from '#shared/logger.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { startTestSimulator } from '#test/helpers/simulator.ts';

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

/** Runs the CLI with `args`; the modules it loaded and what it printed on stdout. */
async function run(args: readonly string[]): Promise<{ urls: string[]; stdout: string }> {
  const log = join(dir, `${args.join('-').replaceAll('/', '_')}.log`);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', HOOK, CLI, ...args],
      { cwd: ROOT, env: { ...process.env, LOADED_LOG: log } },
      (error, out) => (error === null ? resolve(out) : reject(error)),
    );
  });
  return { urls: (await readFile(log, 'utf8')).split('\n').filter((url) => url !== ''), stdout };
}

const loadedBy = async (args: readonly string[]): Promise<string[]> => (await run(args)).urls;

/** What no help text needs: the AWS SDK, schemas, servers, the simulator, sign-in and prompts. */
const HEAVY = [
  '/node_modules/@aws-sdk/',
  '/node_modules/@smithy/',
  '/node_modules/zod/',
  '/node_modules/@aws-lambda-powertools/',
  '/node_modules/@inquirer/',
  '/node_modules/tough-cookie/',
  '/node_modules/dynalite/',
  '/node_modules/s3rver/',
  '/node_modules/local-aws-sqs/',
  '/simulator/',
  '/functions/local/',
  '/functions/app/',
  '/functions/compose/',
];
/** The session file's path and the endpoint's name, for option defaults: no SDK, no schema. */
const LIGHT_COMPOSE = '/functions/compose/cli.ts';
const heavy = (urls: readonly string[]) =>
  urls.filter((url) => HEAVY.some((part) => url.includes(part)) && !url.includes(LIGHT_COMPOSE));

describe('what the CLI loads to print help', () => {
  it('loads no command for the program help or the version', async () => {
    for (const args of [['--help'], ['--version']]) {
      const urls = await loadedBy(args);
      expect(urls.some((url) => url.endsWith('/functions/cli/main.ts'))).toBe(true);
      expect(urls.filter((url) => url.includes('/functions/cli/commands/'))).toEqual([]);
      expect(heavy(urls)).toEqual([]);
    }
  });

  // Every command of the registry, so a command added there is held to the same rule.
  const helps = [
    ...COMMANDS.map((command) => [command.name, '--help']),
    ['local', 'serve', '--help'],
    ['debug', 'records', '--help'],
  ];
  it.each(helps.map((args) => [args.join(' '), args]))(
    '%s loads the named command but not its work',
    async (_name, args) => {
      const urls = await loadedBy(args as string[]);
      expect(urls.some((url) => url.includes('/functions/cli/commands/'))).toBe(true);
      expect(heavy(urls)).toEqual([]);
    },
  );
});

describe('what an idle local sync loads', () => {
  it('starts no local S3 or SQS when nothing changed in iCloud', async () => {
    const sim = await startTestSimulator({ assets: 3, seed: 12 });
    try {
      const sessionFile = join(dir, 'idle-session.json');
      const dataDir = join(dir, 'idle-archive');
      const signedIn = await signInToSimulator(sim, sessionFile);
      const first = await runLocalSync({ dataDir, ...signedIn, logger: createLogger({ level: 'SILENT' }) });
      expect(first.assets.archived).toBe(3);

      const { urls, stdout } = await run([
        '--endpoint',
        sim.controlUrl,
        '--session-file',
        sessionFile,
        '--local',
        dataDir,
        '--json',
        'sync',
      ]);

      // One changes/database for the library, one webgetalbumslist for the account's Shared Albums.
      expect(JSON.parse(stdout)).toMatchObject({ status: 'idle', appleRequestsTotal: 2 });
      const loaded = (part: string) => urls.filter((url) => url.includes(part));
      expect(loaded('/functions/local/local-sync.ts')).not.toEqual([]);
      expect(loaded('/node_modules/@aws-sdk/client-dynamodb/')).not.toEqual([]);
      for (const part of [
        '/node_modules/@aws-sdk/client-s3/',
        '/node_modules/@aws-sdk/client-sqs/',
        '/node_modules/@aws-sdk/lib-storage/',
        '/node_modules/local-aws-sqs/',
        '/functions/local/servers/s3-server.ts',
        // Nor the download path: no work was queued.
        '/functions/app/download-batch.ts',
        '/functions/domain/archive/',
        '/functions/domain/shared-albums/archive-shared-album.ts',
        '/functions/adapters/aws/s3-object-store.ts',
      ])
        expect(loaded(part)).toEqual([]);
    } finally {
      await sim.stop();
    }
  });
});
