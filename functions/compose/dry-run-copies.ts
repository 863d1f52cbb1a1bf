/**
 * The copies of the state `sync --dry-run` makes in the temporary folder (./local-dry-run.ts).
 * A dry run killed outright (SIGKILL, the OOM killer, a power cut) runs no cleanup and leaves its
 * copy, a full copy of the state, behind. Each copy is named for the process that made it (this
 * machine's and its id), so the next dry run removes those whose process is gone, and never the
 * copy of a dry run still running beside it.
 */
import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { processRunning } from '#shared/process-running.ts';

const PREFIX = 'icloud-s3-dry-run-';

/** This machine, briefly: a temporary folder shared with another machine or container is left alone. */
function machine(): string {
  return createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
}

/** The `mkdtemp` prefix of this process's copy, in `folder`. */
export function dryRunCopyPrefix(folder: string = tmpdir()): string {
  return path.join(folder, `${PREFIX}${machine()}-${process.pid}-`);
}

/**
 * Removes the copies in `folder` that dry runs of this machine left when their process died;
 * resolves their names. A copy named otherwise (another machine's, or made before copies were
 * named for their process) stays. A process id reused since keeps its copy until that process ends.
 */
export async function removeDeadDryRunCopies(folder: string = tmpdir()): Promise<string[]> {
  const ours = new RegExp(`^${PREFIX}${machine()}-(\\d+)-[^-]+$`);
  const names = await readdir(folder).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(ours.exec(name)?.[1] ?? Number.NaN);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processRunning(pid)) continue;
    // Another dry run sweeping at the same time may remove it first: `force` makes that no error.
    await rm(path.join(folder, name), { recursive: true, force: true }).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}
