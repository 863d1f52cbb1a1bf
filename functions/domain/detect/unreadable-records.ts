/**
 * Records CloudKit answered as an error entry in place of the record (docs/protocol/cloudkit.md:
 * `{recordName, serverErrorCode, reason}` inside `records`) while detection read a zone. The zone's
 * token moves past the page anyway (one unreadable record must not hold up the whole zone, and a
 * delta does not serve an unchanged record again), so their names are kept with the zone and
 * looked up again on later runs: at each of the next few runs (such errors are mostly
 * transient), then with a growing pause, and given up after a cap so a record that never reads
 * cannot keep a zone busy for ever. A give-up is reported (the `workGivenUp` metric and its
 * alarm), like dead-lettered work that failed every redrive.
 *
 * The same list keeps the photos CloudKit served with a version the policy keeps but without a
 * `downloadURL` (`noUrl`): their record does not change when Apple offers the URL, so no delta
 * brings them back. They wait as long as it takes (`AWAITING_URL_MAX_BACKOFF_MS`), bounded by the list. Pure.
 */

/** One record name waiting to be looked up again. */
export interface UnreadableRecord {
  readonly name: string;
  /** Lookups already tried since it was parked. */
  readonly tries: number;
  /** When the last lookup was tried (ms); absent until the first. */
  readonly lastTriedAt?: number;
  /** Served, but a version the policy keeps came without a download URL. */
  readonly noUrl?: true;
}

export interface UnreadablePolicy {
  /** Lookups at consecutive runs before the pause starts. */
  readonly quickTries: number;
  /** Pause after the first slow try; doubles with each. */
  readonly firstBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Lookups in all before the record is given up. */
  readonly maxTries: number;
  /** Names kept per zone (bounds the stored checkpoint); the oldest beyond it are given up. */
  readonly maxNames: number;
}

/** Three quick tries, then 1, 2, 4, 8, 8 hours apart: about a day, like the dead-letter redrives. */
export const UNREADABLE_POLICY: UnreadablePolicy = {
  quickTries: 3,
  firstBackoffMs: 60 * 60 * 1000,
  maxBackoffMs: 8 * 60 * 60 * 1000,
  maxTries: 8,
  maxNames: 200,
};

/**
 * A version without a URL (`noUrl`): the same quick tries, then a pause doubling up to a day, and
 * never given up (its entry stays pending and verify reports it). One request a day for a hundred.
 */
export const AWAITING_URL_MAX_BACKOFF_MS = 24 * 60 * 60 * 1000;

/** When `record` is next looked up: undefined while it is looked up at every run. */
export function nextLookupAt(record: UnreadableRecord, policy = UNREADABLE_POLICY): number | undefined {
  if (record.lastTriedAt === undefined || record.tries < policy.quickTries) return undefined;
  const pause = Math.min(
    record.noUrl ? AWAITING_URL_MAX_BACKOFF_MS : policy.maxBackoffMs,
    policy.firstBackoffMs * 2 ** (record.tries - policy.quickTries),
  );
  return record.lastTriedAt + pause;
}

/** Whether `record` should be looked up on a run at `now`. */
export function isDue(record: UnreadableRecord, now: number, policy = UNREADABLE_POLICY): boolean {
  return now >= (nextLookupAt(record, policy) ?? now);
}

/**
 * Adds newly unreadable names, and names served without a URL (`noUrl`); a name already waiting
 * keeps its history. The list stays bounded.
 */
export function park(
  waiting: readonly UnreadableRecord[],
  names: readonly string[],
  policy = UNREADABLE_POLICY,
  noUrl: readonly string[] = [],
): { readonly waiting: UnreadableRecord[]; readonly givenUp: string[] } {
  const known = new Set(waiting.map((r) => r.name));
  const all = [...waiting];
  for (const name of [...names, ...noUrl]) {
    if (known.has(name)) continue;
    known.add(name);
    all.push(noUrl.includes(name) ? { name, tries: 0, noUrl: true } : { name, tries: 0 });
  }
  const excess = Math.max(0, all.length - policy.maxNames);
  return { waiting: all.slice(excess), givenUp: all.slice(0, excess).map((r) => r.name) };
}

/**
 * After a lookup of `tried` at `now`: names still unavailable (`noUrl`: served still without a
 * URL) wait with one more try (or are given up at the cap); names returned whole, or gone, leave.
 */
export function afterLookup(
  waiting: readonly UnreadableRecord[],
  tried: readonly string[],
  stillUnavailable: ReadonlySet<string>,
  now: number,
  policy = UNREADABLE_POLICY,
  noUrl: ReadonlySet<string> = new Set(),
): { readonly waiting: UnreadableRecord[]; readonly givenUp: string[] } {
  const triedNow = new Set(tried);
  const next: UnreadableRecord[] = [];
  const givenUp: string[] = [];
  for (const record of waiting) {
    const { name } = record;
    const waits = noUrl.has(name);
    if (!triedNow.has(name)) next.push(record);
    else if (!stillUnavailable.has(name) && !waits) continue;
    else if (!waits && record.tries + 1 >= policy.maxTries) givenUp.push(name);
    else next.push({ name, tries: record.tries + 1, lastTriedAt: now, ...(waits ? { noUrl: true } : {}) });
  }
  return { waiting: next, givenUp };
}
