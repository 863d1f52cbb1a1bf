/**
 * A first sync's local S3, started as soon as the command knows its data dir, before it loads the
 * run's modules. The s3rver child takes 130-170 ms to listen; started with the local stack (after
 * those modules), it was still starting when detection's first page had its journal to write, and
 * that page waited for it and the bucket (docs/benchmarks.md §0, "The tail and start of a local
 * run"). Only for a data dir that never had a local S3: every later run, idle ones included,
 * starts it on first use as before (`openLocalAws`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
// Types only: the stack asks this module whether a start is pending on every run, idle ones
// included, and must not load the child's starter for that.
import type { LocalS3Server } from './s3-server.ts';

const early = new Map<string, Promise<LocalS3Server>>();

/** Where a data dir's local S3 keeps its objects (`openLocalAws`'s layout). */
export function localS3Directory(dataDir: string): string {
  return path.join(dataDir, 'aws', 's3');
}

/**
 * Starts the local S3 of a data dir that has none yet; undefined (nothing started) otherwise.
 * The run takes it with `claimEarlyLocalS3`; a command that ends without running stops it with
 * `stopUnclaimedLocalS3` (a failure to start surfaces where the run takes it).
 */
export function startLocalS3Early(dataDir: string): Promise<LocalS3Server> | undefined {
  const directory = localS3Directory(dataDir);
  if (early.has(directory) || existsSync(directory)) return undefined;
  const starting = import('./s3-server.ts').then(({ startS3Server }) => startS3Server({ directory }));
  starting.catch(() => undefined);
  early.set(directory, starting);
  return starting;
}

/** Whether a local S3 was started early for `directory` and not taken yet. */
export function earlyLocalS3Pending(directory: string): boolean {
  return early.has(directory);
}

/** The local S3 started early for `directory`, now the caller's to stop; undefined if none. */
export function claimEarlyLocalS3(directory: string): Promise<LocalS3Server> | undefined {
  const starting = early.get(directory);
  early.delete(directory);
  return starting;
}

/** Stops every local S3 started early that no run took. */
export async function stopUnclaimedLocalS3(): Promise<void> {
  const left = [...early.values()];
  early.clear();
  await Promise.allSettled(left.map(async (starting) => (await starting).stop()));
}
