/**
 * Which of two states of an asset is newer. CloudKit's change tags cannot be ordered; work
 * messages' issue times can: a later detection run (or page) reads a later state and issues its
 * messages later. SQS delivers out of order and redelivers (a retry, a redriven dead letter hours
 * later), and two workers may hold messages about one asset at once.
 */
import { issuedBefore, type ManifestEntry } from '#domain/model/manifest.ts';

/**
 * How far an issuer's clock may run ahead of the worker's before the worker's clock stands in for
 * its `issuedAt`. Below it, clocks that differ by seconds (a worker behind the detector) keep the
 * detector's own order; above it, an issuer far ahead (a `repair` from a laptop an hour ahead)
 * cannot hold its state against newer messages. No more than the shortest detection schedule
 * (5 minutes): runs of one detector follow each other at least that far apart.
 */
export const ISSUER_AHEAD_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Whether a time the worker's clock read (`workerAt`: now, an entry's `updatedAt`, a failure's
 * `at`) may come after a message the issuer's clock stamped `issuedAt`: unless the issuer is ahead
 * of it by more than the tolerance. The one rule for every comparison of the worker's clock with
 * an `issuedAt` (reliability findings 88, 105).
 */
export function sinceIssued(workerAt: number, issuedAt: number): boolean {
  return issuedAt - workerAt <= ISSUER_AHEAD_TOLERANCE_MS;
}

/** The order of the state a message issued at `issuedAt` carries, as a worker reads it at `now`. */
export function stateOrder(issuedAt: number, now: number): number {
  return sinceIssued(now, issuedAt) ? issuedAt : now;
}

/**
 * Whether work issued at `at` is older than the state `entry` holds. An entry from before
 * `stateAt` holds nothing older, but a purge: an item older than the purge's write never brings it
 * back. That write's time is the worker's clock: an item issued before it, as far as `sinceIssued`
 * can tell, is older (a purge is final: nothing issued after it is about a newer state).
 */
export function isOlder(entry: ManifestEntry | undefined, at: number | undefined): boolean {
  if (entry?.stateAt !== undefined) return issuedBefore(at, entry.stateAt);
  return entry?.status === 'purged' && at !== undefined && sinceIssued(entry.updatedAt, at);
}
