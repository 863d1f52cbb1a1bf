/**
 * Which of two states of an asset is newer. CloudKit's change tags cannot be ordered; work
 * messages' issue times can: a later detection run (or page) reads a later state and issues its
 * messages later. SQS delivers out of order and redelivers (a retry, a redriven dead letter hours
 * later), and two workers may hold messages about one asset at once.
 */
import type { ManifestEntry } from '#domain/model/manifest.ts';

/**
 * Whether work issued at `at` is older than the state `entry` holds. An entry from before
 * `stateAt` holds nothing older, but a purge: an item older than the purge's write never brings it back.
 */
export function isOlder(entry: ManifestEntry | undefined, at: number | undefined): boolean {
  const held = entry?.stateAt ?? (entry?.status === 'purged' ? entry.updatedAt : undefined);
  return at !== undefined && held !== undefined && at < held;
}
