/**
 * The CLI's conventions, run as a person's shell runs it (a subprocess): --version, one --json
 * error shape for every command and every bad option, a missing file, a closed pipe, colour only
 * where it belongs.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asset, master } from '#test/fixtures/scripted-cloudkit.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'functions/cli/main.ts');
const VIDEOS = join(ROOT, 'test/fixtures/recorded/icloudpd/listing_videos.json');
const ESC = '\x1b[';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A port nothing listens on (a server's, after it closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function cli(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('icloud-s3 --version', () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

  it.each(['--version', '-V'])('%s prints the package.json version and exits 0', async (flag) => {
    const run = await cli([flag]);
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});

/** Every command with --json and an option it does not take, or a value it refuses. */
const BAD_COMMAND_LINES: readonly (readonly string[])[] = [
  ['login', '--bogus'],
  ['login', '--sms', 'two'],
  ['sync', '--bogus'],
  ['sync', '--concurrency', 'abc'],
  ['sync', '--concurrency', '0'],
  ['sync', '--concurrency', '65'],
  ['sync', '--max-delete-fraction', '2'],
  ['sync', '--delete-policy', 'everything'],
  ['status', '--bogus'],
  ['status', '--runs', 'abc'],
  ['verify', '--bogus'],
  ['local', 'serve', '--bogus'],
  ['local', 'serve', '--port', '70000'],
  ['library', '--bogus'],
  ['debug', 'records', '--bogus', 'x.json'],
  ['debug', 'records'],
  ['debug', 'records', 'x.json', '--database', 'public'],
  ['demo', '--bogus'],
  ['demo', '--assets', 'many'],
  ['no-such-command'],
];

describe('--json errors have one shape', () => {
  it.each(BAD_COMMAND_LINES)(
    '%s … --json: exit 2, one JSON error object with the usage code',
    async (...args) => {
      const run = await cli([...args, '--json']);
      expect(run.code, run.stderr).toBe(2);
      const lines = run.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const result = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
      expect(result).toEqual({
        status: 'error',
        error: {
          code: 'usage',
          message: expect.any(String),
          hint: expect.stringMatching(/^Run: npx icloud-s3.* --help$/),
        },
        exitCode: 2,
      });
    },
  );

  it('names the option and what it takes', async () => {
    const run = await cli(['sync', '--concurrency', '0', '--json']);
    const { error } = JSON.parse(run.stdout) as { error: { message: string; hint: string } };
    expect(error.message).toContain("'0' is invalid");
    expect(error.message).toMatch(/--concurrency.*whole number from 1 to 64/);
    expect(error.hint).toBe('Run: npx icloud-s3 sync --help');
  });

  it('a network failure names where it could not reach', async () => {
    const port = await closedPort();
    const run = await cli(['library', '--json', '--endpoint', `http://127.0.0.1:${port}/__sim`]);
    const error = JSON.parse(run.stdout).error as Record<string, unknown>;
    expect(run.code).toBe(1);
    expect(error['code']).toBe('network');
    expect(error['message']).toContain('127.0.0.1');
  });
});

describe('--aws without an AWS region', () => {
  it.each([['status'], ['verify'], ['login']])(
    '%s --aws --json names --region and --profile instead of the SDK\'s "Region is missing"',
    async (command) => {
      const run = await cli([command, '--aws', '--json'], {
        AWS_REGION: undefined,
        AWS_DEFAULT_REGION: undefined,
        AWS_PROFILE: undefined,
        AWS_CONFIG_FILE: join(ROOT, 'no-such-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(ROOT, 'no-such-aws-credentials'),
      });
      expect(run.code, run.stderr).toBe(1);
      const { error } = JSON.parse(run.stdout) as { error: { code: string; message: string; hint: string } };
      expect(error.code).toBe('aws');
      expect(error.message).toContain('no AWS region');
      expect(error.hint).toMatch(/--region .*AWS_REGION.*--profile/);
    },
  );
});

describe('help', () => {
  it('shows numeric defaults as numbers', async () => {
    const sync = await cli(['sync', '--help']);
    expect(sync.stdout).toMatch(/\(default:\s+4\)/);
    const demo = await cli(['demo', '--help']);
    expect(demo.stdout).toMatch(/\(default:\s+300\)/);
    expect(demo.stdout).not.toMatch(/default: "\d+"/);
  });

  it('login --help lists exit code 3', async () => {
    const run = await cli(['login', '--help']);
    expect(run.stdout).toMatch(/Exit codes:[\s\S]*\b3 Apple wants a new sign-in/);
  });
});

describe('debug records', () => {
  it('says a missing file does not exist (not "not a JSON file")', async () => {
    const run = await cli(['debug', 'records', 'no-such-file.json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no-such-file.json does not exist');
    expect(run.stderr).not.toContain('JSON');
  });

  it('stops quietly when the reader of its output goes away (| head)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'debug', 'records', VIDEOS], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it("names a HEIC Live Photo's video as sync would: --live-video-name, else $LIVE_VIDEO_NAME", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'debug-live-'));
    try {
      const file = join(dir, 'live.json');
      const still = master('AbCdEfGhIjKlMnOpQrStUvWx+/01', 'IMG_1.HEIC', 42);
      Object.assign(still['fields'] as object, {
        resOriginalVidComplRes: {
          value: { fileChecksum: 'V1', size: 7, downloadURL: 'https://cvws.icloud-content.com/B/V1/video' },
          type: 'ASSETID',
        },
        resOriginalVidComplFileType: { value: 'com.apple.quicktime-movie', type: 'STRING' },
      });
      await writeFile(
        file,
        JSON.stringify({ records: [still, asset('A-1', 'AbCdEfGhIjKlMnOpQrStUvWx+/01')] }),
      );
      const videoName = (run: Run) => {
        const { recordLists } = JSON.parse(run.stdout) as {
          recordLists: { changes: { asset?: { versions: { kind: string; fileName: string }[] } }[] }[];
        };
        return recordLists[0]?.changes[0]?.asset?.versions.find((v) => v.kind === 'live')?.fileName;
      };
      const original = { LIVE_VIDEO_NAME: 'original' };
      expect(videoName(await cli(['debug', 'records', file, '--json'], original))).toBe('IMG_1.MOV');
      const flag = await cli(['debug', 'records', file, '--live-video-name', 'suffix', '--json'], original);
      expect(videoName(flag)).toBe('IMG_1_HEVC.MOV');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('colour', () => {
  it('never writes escape codes to a redirected stderr, and NO_COLOR wins over nothing', async () => {
    const plain = await cli(['debug', 'records', 'no-such-file.json']);
    expect(plain.stderr).not.toContain(ESC);
  });

  it('FORCE_COLOR paints the error; NO_COLOR alone does not', async () => {
    const forced = await cli(['debug', 'records', 'no-such-file.json'], { FORCE_COLOR: '1' });
    expect(forced.stderr).toContain(`${ESC}31m✖`);
    const none = await cli(['debug', 'records', 'no-such-file.json'], { NO_COLOR: '1' });
    expect(none.stderr).not.toContain(ESC);
  });
});
