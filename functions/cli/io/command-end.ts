/**
 * Work to do when the command ends, whatever the outcome (e.g. stopping a demo simulator a
 * command started). Kept free of imports so `main.ts` can run it without loading any command.
 */
const tasks: (() => Promise<void>)[] = [];

/** Runs `task` once the command has ended. */
export function atCommandEnd(task: () => Promise<void>): void {
  tasks.push(task);
}

/** Runs (and forgets) every task registered so far. */
export async function runCommandEndTasks(): Promise<void> {
  await Promise.all(tasks.splice(0).map((task) => task()));
}
