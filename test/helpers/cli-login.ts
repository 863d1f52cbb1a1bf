/**
 * Runs `icloud-s3 login` against a simulator the way a person's script answers it: the password
 * from ICLOUD_PASSWORD, answers on stdin. At each code prompt it types the code when a new one is
 * showing on the simulated device or phone (Apple before 2026 pushes one at sign-in; an SMS is sent
 * before the prompt), else an empty line, which asks Apple to send one; then the code.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import type { ControlClient } from './simulator.ts';

export interface CliLoginRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** What the script typed at the code prompts, in order (`""` for an empty line). */
  readonly typed: readonly string[];
}

interface ShownCode {
  readonly code: string;
  readonly at: number;
}

const repositoryRoot = join(import.meta.dirname, '..', '..');

export function runCliLogin(
  sim: Pick<SimulatorHandle, 'controlUrl' | 'appleId' | 'password'>,
  control: ControlClient,
  args: readonly string[],
  env: Record<string, string> = {},
  /** `false`: no `--apple-id` (login takes the stored session's). */
  passAppleId = true,
): Promise<CliLoginRun> {
  const shownCode = () =>
    control
      .call<ShownCode>('GET', `/2fa/code?appleId=${encodeURIComponent(sim.appleId)}`)
      .catch(() => undefined);
  return shownCode().then(
    (before) =>
      new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            'bin/icloud-s3.mjs',
            'login',
            '--endpoint',
            sim.controlUrl,
            ...(passAppleId ? ['--apple-id', sim.appleId] : []),
            ...args,
          ],
          {
            cwd: repositoryRoot,
            env: { ...process.env, ICLOUD_PASSWORD: sim.password, ...env },
            stdio: 'pipe',
          },
        );
        let stdout = '';
        let stderr = '';
        const typed: string[] = [];
        let answered = 0;
        let answering = Promise.resolve();
        const answer = async () => {
          const prompts = ((stdout + stderr).match(/\? Verification code/g) ?? []).length;
          while (answered < prompts) {
            answered += 1;
            const now = await shownCode();
            const fresh = now !== undefined && (now.code !== before?.code || now.at !== before?.at);
            const line = fresh ? now.code : '';
            typed.push(line);
            child.stdin.write(`${line}\n`);
          }
        };
        const onData = () => {
          answering = answering.then(answer);
        };
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          onData();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          onData();
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr, typed }));
      }),
  );
}
