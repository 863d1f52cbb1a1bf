/**
 * What a command's `finally` would do that Ctrl-C must not skip: a dry run's copy of the state
 * removed, a refreshed session saved. The CLI's SIGINT handler (cli/io/interrupt.ts) runs these,
 * for a bounded time, before it exits; the code that owns the resource registers it here (the CLI
 * cannot reach into a composition) and forgets it once its own `finally` has run.
 */
const tasks = new Set<() => Promise<unknown>>();

/** Registers `task` for an interrupt; returns what forgets it. */
export function cleanUpOnInterrupt(task: () => Promise<unknown>): () => void {
  tasks.add(task);
  return () => tasks.delete(task);
}

/** Runs (and forgets) every registered task at once; a failing one does not stop the others. */
export async function runInterruptCleanups(): Promise<void> {
  const running = [...tasks];
  tasks.clear();
  await Promise.allSettled(running.map((task) => task()));
}
