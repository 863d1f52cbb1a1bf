/**
 * The one line `sync` prints when Ctrl-C stops it: how far the run got, from its last progress
 * report (one per item done, its manifest entry written: what it counts is in the archive).
 */
import type { SyncProgress } from '#local/local-sync.ts';
import { formatBytes } from './progress-line.ts';

export function describeInterruptedSync(progress: SyncProgress | undefined): string {
  const again = 'run npx icloud-s3 sync again to continue.';
  if (progress === undefined || (progress.itemsDone === 0 && progress.bytesArchived === 0)) {
    return `Interrupted before anything was archived: ${again}`;
  }
  const found = progress.itemsEnqueued;
  return `Interrupted after ${progress.itemsDone} of ${found} item${found === 1 ? '' : 's'} (${formatBytes(progress.bytesArchived)} archived): ${again}`;
}
