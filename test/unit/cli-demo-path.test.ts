/**
 * When commands use what `npm start` left (demo-path.ts): only while the person has no archive
 * and no session of their own, never for `login`, never for `--aws`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliContext } from '../../functions/cli/context.ts';
import { demoFallback } from '../../functions/cli/demo-path.ts';

let cwd: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'icloud-s3-demo-path-'));
  env = { XDG_CONFIG_HOME: join(cwd, 'config') };
  await mkdir(join(cwd, '.icloud-s3', 'demo', 'archive', 'aws'), { recursive: true });
  await writeFile(join(cwd, '.icloud-s3', 'demo', 'session.json'), '{}');
});

afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('demoFallback', () => {
  it("finds the demo's archive and session while the person has neither", () => {
    expect(demoFallback(cwd, env)?.archive).toBe(join(cwd, '.icloud-s3', 'demo', 'archive'));
  });

  it('steps aside once the person has an archive of their own', async () => {
    await mkdir(join(cwd, '.icloud-s3', 'aws'), { recursive: true });
    expect(demoFallback(cwd, env)).toBeUndefined();
  });

  it('steps aside once the person has signed in', async () => {
    await mkdir(join(cwd, 'config', 'icloud-s3'), { recursive: true });
    await writeFile(join(cwd, 'config', 'icloud-s3', 'session.json'), '{}');
    expect(demoFallback(cwd, env)).toBeUndefined();
  });
});

describe('cliContext', () => {
  const sessionPath = (args: string[], use: { demo?: boolean } = {}) => {
    let path = '';
    const program = new Command('icloud-s3')
      .option('--json')
      .option('--local <dir>')
      .option('--session-file <p>');
    program.addCommand(
      new Command('status').option('--aws').action((_options, command: Command) => {
        path = (cliContext(command, use).store as unknown as { path: string }).path;
      }),
    );
    program.parse(['node', 'icloud-s3', ...args, '--json']);
    return path;
  };

  it("uses the demo's session for a local command, not for --aws or login", () => {
    const saved = { cwd: process.cwd(), xdg: process.env['XDG_CONFIG_HOME'] };
    process.chdir(cwd);
    process.env['XDG_CONFIG_HOME'] = env['XDG_CONFIG_HOME'];
    try {
      expect(sessionPath(['status'])).toMatch(/\.icloud-s3\/demo\/session\.json$/);
      expect(sessionPath(['status', '--aws'])).not.toMatch(/\.icloud-s3\/demo/);
      expect(sessionPath(['status'], { demo: false })).not.toMatch(/\.icloud-s3\/demo/);
    } finally {
      process.chdir(saved.cwd);
      if (saved.xdg === undefined) delete process.env['XDG_CONFIG_HOME'];
      else process.env['XDG_CONFIG_HOME'] = saved.xdg;
    }
  });
});
