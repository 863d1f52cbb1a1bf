/**
 * The path a newcomer walks: the README's commands after the demo (the code block marked
 * `<!-- walkthrough -->`), then the commands the demo itself prints as its closing lines, each
 * run in order, in a fresh folder with no session of its own, and each exiting as the docs say.
 *
 * `npm start` and `npx icloud-s3` are run as the CLI they stand for (`bin/icloud-s3.mjs`), because
 * the fresh folder is not a checkout. Commands that need an AWS account are skipped, by name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'icloud-s3.mjs');

/** Need an AWS account and a deployed stack: not runnable here. */
const NEEDS_AWS = ['npx cdk deploy', 'npx cdk bootstrap', 'npx icloud-s3 login --aws'];

/** The exit code the docs promise for each command (every one of them: 0). */
const EXPECTED_EXIT = 0;

let dir: string;

function launch(command: string, cwd = dir): ChildProcess {
  const words = command.split(/\s+/).filter(Boolean);
  let args: string[];
  if (words[0] === 'npm' && words[1] === 'start')
    args = ['demo', ...words.slice(2).filter((w) => w !== '--')];
  else if (words[0] === 'npx' && words[1] === 'icloud-s3') args = words.slice(2);
  else throw new Error(`the walkthrough cannot run "${command}"`);
  // A newcomer's shell: no endpoint chosen, no session of their own.
  const { ICLOUD_ENDPOINT: _chosen, ...env } = process.env;
  return spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...env, NO_COLOR: '1', XDG_CONFIG_HOME: join(cwd, 'config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function collect(child: ChildProcess, onStdout?: (text: string) => void): Promise<Ran> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const run = (command: string, cwd = dir) => collect(launch(command, cwd));

/** `local serve` runs until stopped: it must print its JSON line, then exit 0 on Ctrl-C. */
function runServer(command: string): Promise<Ran> {
  const child = launch(command);
  return collect(child, (stdout) => {
    if (stdout.includes('\n')) child.kill('SIGINT');
  });
}

/** The commands of the README's code blocks that follow `<!-- walkthrough` (comments dropped). */
function walkthroughCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/<!-- walkthrough[^>]*-->\s*```sh\n([\s\S]*?)```/g)];
  return blocks.flatMap(([, body]) =>
    (body ?? '')
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== ''),
  );
}

/** The commands the demo prints after "Try next", one per line, before their explanation. */
function demoNextCommands(stdout: string): string[] {
  const after = stdout.slice(stdout.indexOf('Try next'));
  return after
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('npx icloud-s3 ') && /\s{2,}/.test(line))
    .map((line) => line.split(/\s{2,}/)[0] ?? line);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-walk-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the path from npm start', () => {
  let demoStdout = '';

  it("runs the README's walkthrough in order; each command exits as documented", async () => {
    const commands = walkthroughCommands(await readFile(join(ROOT, 'README.md'), 'utf8'));
    expect(commands[0]).toBe('npm start');
    expect(commands.length).toBeGreaterThan(3);
    for (const command of commands) {
      if (NEEDS_AWS.some((prefix) => command.startsWith(prefix))) continue;
      const ran = await run(command);
      expect(ran.code, `${command}\n${ran.stdout}\n${ran.stderr}`).toBe(EXPECTED_EXIT);
      if (command === 'npm start') demoStdout = ran.stdout;
    }
  });

  it('the demo closes with commands that each work as printed, and the deploy order of docs/deploy.md', async () => {
    const commands = demoNextCommands(demoStdout);
    expect(commands).toEqual([
      'npx icloud-s3 status',
      'npx icloud-s3 verify',
      'npx icloud-s3 sync',
      'npx icloud-s3 local serve',
    ]);
    for (const command of commands) {
      const ran = command.endsWith('local serve') ? await runServer(command) : await run(command);
      expect(ran.code, `${command}\n${ran.stdout}\n${ran.stderr}`).toBe(EXPECTED_EXIT);
    }
    const verify = await run('npx icloud-s3 verify --json');
    expect(JSON.parse(verify.stdout)).toMatchObject({ status: 'ok' });
    // docs/deploy.md: deploy the stack, then sign in for it.
    const closing = demoStdout.slice(demoStdout.indexOf('For your real library'));
    expect(closing.indexOf('deploy')).toBeLessThan(closing.indexOf('login --aws'));
  });

  it('prints its folder in the commands when they would not find it alone (the person has a session of their own)', async () => {
    const own = await mkdtemp(join(tmpdir(), 'icloud-s3-walk-own-'));
    try {
      await mkdir(join(own, 'config', 'icloud-s3'), { recursive: true });
      await writeFile(join(own, 'config', 'icloud-s3', 'session.json'), '{}');
      const demo = await run('npm start -- --assets 12', own);
      expect(demo.code, demo.stderr).toBe(0);
      const commands = demoNextCommands(demo.stdout).filter((c) => !c.includes('local serve'));
      expect(commands[0]).toBe(
        'npx icloud-s3 status --local .icloud-s3/demo/archive --session-file .icloud-s3/demo/session.json',
      );
      for (const command of commands) {
        const ran = await run(command, own);
        expect(ran.code, `${command}\n${ran.stdout}\n${ran.stderr}`).toBe(EXPECTED_EXIT);
      }
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
