/**
 * The `sync-in-progress` marker under the data folder: written when a local `sync` starts (its
 * start time and PID), removed when it ends with nothing left in flight. Found by the next run, it
 * means the last one did not finish (killed, crashed, or stopped with work in flight): that run
 * re-walks every zone (local-sync.ts). `status` reads it to say so, or, its PID alive, that a sync runs.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { processRunning } from '#shared/process-running.ts';

export const SYNC_MARKER = 'sync-in-progress';

export interface SyncMarker {
  /** When the unfinished run started (ms); absent in a marker that does not say. */
  readonly since?: number;
  /** The process that wrote it; absent in an older marker. */
  readonly pid?: number;
}

/** The marker under `dataDir`, or nothing when the last sync finished. */
export async function readSyncMarker(dataDir: string): Promise<SyncMarker | undefined> {
  const file = path.join(dataDir, SYNC_MARKER);
  if (!existsSync(file)) return undefined;
  const [startedAt, pidLine] = (await readFile(file, 'utf8').catch(() => '')).split('\n');
  const since = Date.parse(startedAt ?? '');
  const pid = Number(pidLine);
  return {
    ...(Number.isNaN(since) ? {} : { since }),
    ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}),
  };
}

/** Whether the process a marker names is still running (a marker without a PID: an older run, gone). */
export function markerHolderAlive(marker: SyncMarker): boolean {
  return marker.pid !== undefined && processRunning(marker.pid);
}
