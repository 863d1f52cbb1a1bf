/**
 * Runs one job in a child Node process and returns its answer, so what the job measures (RSS
 * above all) is that process's own. The child module calls `serveChildJob` with its job runner.
 * Every job has a time limit: the child is killed and the promise rejects when it is reached.
 */
import { fork } from 'node:child_process';
import { killWithParent } from './kill-with-parent.ts';

type Reply<T> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly error: string };

/** Forks `modulePath` (TypeScript, through tsx), sends it `job`, resolves with its result. */
export function runChildJob<T>(
  modulePath: string,
  job: unknown,
  timeoutMs: number,
  nodeOptions: readonly string[] = [],
): Promise<T> {
  const child = fork(modulePath, ['--child-job'], {
    execArgv: ['--import', 'tsx', ...nodeOptions],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  killWithParent(child);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const timer = setTimeout(() => {
      finish(() => reject(new Error(`child job exceeded ${Math.round(timeoutMs / 1000)} s`)));
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('message', (message) => {
      const reply = message as Reply<T>;
      finish(() => (reply.ok ? resolve(reply.result) : reject(new Error(reply.error))));
      child.disconnect();
    });
    child.once('error', (error) => finish(() => reject(error)));
    child.once('exit', (code, signal) =>
      finish(() => reject(new Error(`child job exited (${code ?? signal}) without an answer`))),
    );
    child.send(job as object);
  });
}

/** True in a process started by `runChildJob`. */
export const isChildJob = (): boolean => process.argv.includes('--child-job');

/** In the child: receives the job, runs it, sends the result (or the error message) and exits. */
export function serveChildJob<J, T>(run: (job: J) => Promise<T>): void {
  process.once('message', (job) => {
    run(job as J).then(
      (result) => process.send?.({ ok: true, result } satisfies Reply<T>, () => process.exit(0)),
      (error: unknown) =>
        process.send?.(
          { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) },
          () => process.exit(1),
        ),
    );
  });
}
