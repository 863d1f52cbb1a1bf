/**
 * Runs one job in a child Node process and returns its answer, so what the job measures (RSS
 * above all) is that process's own. The child module calls `serveChildJob` with its job runner.
 *
 * Every job has a time limit, scaled by how loaded the machine is when the child starts
 * (`loadFactor`): on a shared machine a row that would finish in 90 s idle can take 300 s, and a
 * fixed limit threw finished work away. A child may report progress (`report` in
 * `serveChildJob`); when the limit is reached the child is killed and the promise rejects with a
 * `ChildJobTimeout` carrying the last progress, so the caller can print the row as timed out
 * with its partial figure instead of dropping it.
 */
import { fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { killWithParent } from './kill-with-parent.ts';

type Reply<T> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly error: string };
type Progress = { readonly progress: unknown };

/** The job ran out of time; `partial` is the last progress the child reported, if any. */
export class ChildJobTimeout extends Error {
  override readonly name = 'ChildJobTimeout';
  constructor(
    readonly limitMs: number,
    readonly partial: unknown,
  ) {
    super(`child job exceeded ${Math.round(limitMs / 1000)} s (limit scaled for the machine's load)`);
  }
}

/**
 * How much slower than idle this machine runs now: runnable processes per core (1-minute load
 * average over the core count), at least 1. The benchmark's limits are written for an idle machine.
 */
export function loadFactor(): number {
  const perCore = (loadavg()[0] ?? 0) / Math.max(1, cpus().length);
  return Math.max(1, Math.round(perCore * 100) / 100);
}

/** `baseMs` (the limit on an idle machine) scaled by the load now. */
export const scaledLimitMs = (baseMs: number): number => Math.round(baseMs * loadFactor());

/**
 * Forks `modulePath` (TypeScript, through tsx), sends it `job`, resolves with its result.
 * `baseTimeoutMs` is the limit on an idle machine; the child gets it times `loadFactor()`.
 */
export function runChildJob<T>(
  modulePath: string,
  job: unknown,
  baseTimeoutMs: number,
  nodeOptions: readonly string[] = [],
): Promise<T> {
  const timeoutMs = scaledLimitMs(baseTimeoutMs);
  const child = fork(modulePath, ['--child-job'], {
    execArgv: ['--import', 'tsx', ...nodeOptions],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  killWithParent(child);
  let partial: unknown;
  let reply: Reply<T> | undefined;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const timer = setTimeout(() => {
      finish(() => reject(new ChildJobTimeout(timeoutMs, partial)));
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (message) => {
      if (typeof message === 'object' && message !== null && 'progress' in message) {
        partial = (message as Progress).progress;
        return;
      }
      reply = message as Reply<T>;
    });
    child.once('error', (error) => finish(() => reject(error)));
    // Settled on exit, not on the answer: what the child writes as it exits (a --cpu-prof
    // profile) is on disk when the caller reads it.
    child.once('exit', (code, signal) =>
      finish(() => {
        if (reply === undefined) reject(new Error(`child job exited (${code ?? signal}) without an answer`));
        else if (reply.ok) resolve(reply.result);
        else reject(new Error(reply.error));
      }),
    );
    child.send(job as object);
  });
}

/** True in a process started by `runChildJob`. */
export const isChildJob = (): boolean => process.argv.includes('--child-job');

/** Sends the parent the job's figure so far (kept in case the job runs out of time). */
export function reportProgress(progress: unknown): void {
  process.send?.({ progress } satisfies Progress);
}

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
