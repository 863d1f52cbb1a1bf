/**
 * A benchmark stopped by its deadline (`process.exit`) must not leave its child processes
 * running: each child is killed when this process exits, unless it has exited first.
 */
import type { ChildProcess } from 'node:child_process';

export function killWithParent(child: ChildProcess): void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}
