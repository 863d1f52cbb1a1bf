/**
 * docs/commands.md: "Without `--local` and `--session-file` [...] the commands
 * use what `npm start` left in `./.icloud-s3/demo` (archive and session)". With `--session-file`
 * (a person's own sign-in, e.g. `login --session-file ~/me.json` after the demo), `cliContext`
 * steps aside from the demo, and so must `localDir` (`sync`, `status`, `verify`, `local serve`):
 * it looked at `--local` alone, and the person's real library went into the demo's archive, mixed
 * with the simulated library's state (its zone tokens, its manifest). Finding 50.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { localDir } from '../../functions/cli/commands/sync.ts';
import { cliContext } from '../../functions/cli/context.ts';

let cwd: string;
const saved = { cwd: process.cwd(), xdg: process.env['XDG_CONFIG_HOME'] };

beforeEach(async () => {
  cwd = await realpath(await mkdtemp(join(tmpdir(), 'icloud-s3-session-file-demo-')));
  await mkdir(join(cwd, '.icloud-s3', 'demo', 'archive', 'aws'), { recursive: true });
  await writeFile(join(cwd, '.icloud-s3', 'demo', 'session.json'), '{}');
  process.chdir(cwd);
  process.env['XDG_CONFIG_HOME'] = join(cwd, 'config');
});

afterEach(async () => {
  process.chdir(saved.cwd);
  if (saved.xdg === undefined) delete process.env['XDG_CONFIG_HOME'];
  else process.env['XDG_CONFIG_HOME'] = saved.xdg;
  await rm(cwd, { recursive: true, force: true });
});

async function picked(args: string[]): Promise<{ session: string; dataDir: string }> {
  let seen = { session: '', dataDir: '' };
  const program = new Command('icloud-s3')
    .option('--json')
    .option('--local <dir>')
    .option('--session-file <p>');
  program.addCommand(
    new Command('sync').action(async (_options, command: Command) => {
      const store = cliContext(command).store as unknown as { path: string };
      const globals = command.optsWithGlobals<{ local?: string; sessionFile?: string }>();
      seen = { session: store.path, dataDir: await localDir(globals) };
    }),
  );
  await program.parseAsync(['node', 'icloud-s3', ...args, 'sync', '--json']);
  return seen;
}

it('sync --session-file (own session, no --local) does not archive into the demo folder', async () => {
  expect(await picked(['--session-file', join(cwd, 'me.json')])).toEqual({
    session: join(cwd, 'me.json'),
    dataDir: join(cwd, '.icloud-s3'),
  });
});

it('sync with neither option still uses the demo, session and archive alike', async () => {
  expect(await picked([])).toEqual({
    session: join(cwd, '.icloud-s3', 'demo', 'session.json'),
    dataDir: join(cwd, '.icloud-s3', 'demo', 'archive'),
  });
});
