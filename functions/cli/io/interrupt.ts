/**
 * Ctrl-C during a long command: say in one line what was done so far, then exit 130 (128 +
 * SIGINT, as shells report it). The work is crash-safe by design (the next run picks up where
 * this one stopped), so nothing needs undoing; what a `finally` would have tidied (temporary
 * copies, the session's refreshed cookies) is run first, bounded.
 */
import { runInterruptCleanups } from '#shared/interrupt-cleanup.ts';
import { EXIT_INTERRUPTED, errorResult } from './error-report.ts';
import type { Output } from './output.ts';

/**
 * How long Ctrl-C waits for the cleanups the command registered (`#shared/interrupt-cleanup.ts`:
 * a dry run's copy removed, a refreshed session saved) before it exits anyway. A second Ctrl-C
 * exits at once (the handler is gone).
 */
export const INTERRUPT_CLEANUP_MS = 3000;

/** Exit code of a run stopped by SIGTERM (128 + 15), as shells report it. */
export const EXIT_TERMINATED = 143;

/**
 * Until the returned function is called, SIGINT (Ctrl-C) or SIGTERM (systemd's stop, `timeout`,
 * `docker stop`) prints `describe()`, cleans up (bounded) and exits 130, or 143 on SIGTERM. Without
 * the SIGTERM handler Node ended at once: no line, no JSON under `--json`, and the session's
 * refreshed cookies not saved.
 */
export function exitOnInterrupt(output: Output, describe: () => string, hint: string): () => void {
  const stop = (signal: NodeJS.Signals) => {
    off();
    const exitCode = signal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
    const message = describe();
    output.error(message);
    output.result(errorResult({ code: 'interrupted', message, hint, exitCode }));
    const bound = new Promise((resolve) => setTimeout(resolve, INTERRUPT_CLEANUP_MS));
    void Promise.race([runInterruptCleanups(), bound]).finally(() => process.exit(exitCode));
  };
  const off = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return off;
}
