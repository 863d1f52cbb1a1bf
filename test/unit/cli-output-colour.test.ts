import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Output } from '../../functions/cli/io/output.ts';

/** A terminal on stdout, stderr redirected to a file: what `icloud-s3 sync 2>errors.log` sees. */
const saved = {
  stdoutTTY: process.stdout.isTTY,
  stderrTTY: process.stderr.isTTY,
  stdoutWrite: process.stdout.write,
  stderrWrite: process.stderr.write,
  env: { NO_COLOR: process.env['NO_COLOR'], FORCE_COLOR: process.env['FORCE_COLOR'] },
};
let stdout = '';
let stderr = '';

beforeEach(() => {
  stdout = '';
  stderr = '';
  delete process.env['NO_COLOR'];
  delete process.env['FORCE_COLOR'];
  process.stdout.isTTY = true;
  process.stderr.isTTY = false;
  process.stdout.write = ((chunk: string) => {
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
});

afterEach(() => {
  process.stdout.isTTY = saved.stdoutTTY;
  process.stderr.isTTY = saved.stderrTTY;
  process.stdout.write = saved.stdoutWrite;
  process.stderr.write = saved.stderrWrite;
  for (const [name, value] of Object.entries(saved.env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('Output colour, per stream', () => {
  it('paints the terminal on stdout but writes no escape codes to a redirected stderr', () => {
    const output = new Output({ json: false });
    output.success('archived');
    output.warn('slow');
    output.error('failed', 'Run: icloud-s3 login');

    expect(stdout).toBe('\x1b[32m✔\x1b[39m archived\n');
    expect(stderr).toBe('! slow\n✖ failed\n  Run: icloud-s3 login\n');
  });

  it('paints nothing with NO_COLOR, even on the terminal', () => {
    process.env['NO_COLOR'] = '1';
    new Output({ json: false }).success('archived');
    expect(stdout).toBe('✔ archived\n');
  });
});
