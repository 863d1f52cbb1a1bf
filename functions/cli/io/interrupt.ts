/**
 * Ctrl-C during a long command: say in one line what was done so far, then exit 130 (128 +
 * SIGINT, as shells report it). The work is crash-safe by design (the next run picks up where
 * this one stopped), so nothing needs undoing first.
 */
import { EXIT_INTERRUPTED, errorResult } from './error-report.ts';
import type { Output } from './output.ts';

/** Until the returned function is called, SIGINT prints `describe()` and exits 130. */
export function exitOnInterrupt(output: Output, describe: () => string, hint: string): () => void {
  const stop = () => {
    const message = describe();
    output.error(message);
    output.result(errorResult({ code: 'interrupted', message, hint, exitCode: EXIT_INTERRUPTED }));
    process.exit(EXIT_INTERRUPTED);
  };
  process.once('SIGINT', stop);
  return () => process.off('SIGINT', stop);
}
