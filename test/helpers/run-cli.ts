/**
 * Runs `icloud-s3` from its sources (tsx) as a child process, the way a person runs it, with
 * colour off. Resolves with the exit code and both streams; never rejects on a non-zero exit.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const CLI_ENTRY = fileURLToPath(new URL('../../functions/cli/main.ts', import.meta.url));

/** `env` replaces this process's environment (`NO_COLOR=1` is always added). */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI_ENTRY, ...args],
      { env: { ...(options.env ?? process.env), NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
