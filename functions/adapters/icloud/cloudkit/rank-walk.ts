/**
 * Where the next page of a walk by rank starts, and whether a page continues the walk
 * (docs/protocol/cloudkit.md#paging, docs/reliability.md finding 17).
 *
 * A rank is a photo's place in the index now, not when the walk began: a photo trashed, hidden
 * or deleted at a rank already read moves every later photo down by one, so starting the next
 * page at "last start + photos seen" would skip the photo that slid onto the page just read.
 * Nothing else would ever name it (it did not change). So each page starts `overlapFor` photos
 * before where the last one ended, and must contain a record read on the last page (their names
 * ride in the cursor): such a record ranks before every photo not read yet, so none of those
 * can have slid below the page. Up to that many removals between two reads cost no request; the
 * records read twice are dropped by name. A page without any means more removals than that: the
 * walk steps back a page, then two, four…, until it finds one or reaches rank 0, and reads on
 * from there (a page stepped back to is read again, its known photos dropped). Stepping back
 * costs requests, never a photo. Nothing here depends on the order of records within a page.
 *
 * Pure: the CloudKit source and the test fake page the same way, the library's indexes and an
 * album's contents alike (`walkNamed`; a member leaving an album shifts ranks too, finding 31).
 */

/** Photos each page re-reads of the one before (bounded by a quarter of the page). */
export const WALK_OVERLAP = 5;

/** The rank part of a walk's cursor (stored in the zone checkpoint; every field but `startRank` optional). */
export interface WalkPosition {
  /** Rank of the next page's first photo. */
  readonly startRank: number;
  /** Record names read on the last page: the next page must contain one. */
  readonly overlap?: readonly string[];
  /** Pages stepped back in a row looking for `overlap`. */
  readonly retreats?: number;
  /** The last page was found by stepping back: the next is taken as it is (no second step back). */
  readonly recovered?: boolean;
}

/** What a page held, as the walk counts it. */
export interface WalkPage {
  /** Ranks (photos) the page covers. */
  readonly ranks: number;
  /** Every record name on it (any of the cursor's `overlap` among them: it continues the walk). */
  readonly present: readonly string[];
  /** Photos on it not read before (`overlap` dropped). */
  readonly fresh: number;
  /** Names to look for on the next page: the records this page read. */
  readonly read: readonly string[];
}

export type WalkStep =
  /** The page is not the continuation of what was read: take nothing of it, query `next` instead. */
  | { readonly kind: 'retreat'; readonly next: WalkPosition }
  /**
   * The page continues the walk. `end`: it held nothing new and was not full (or was empty), so
   * the index may end at `ranksRead`; the caller decides with the count (probing as before).
   */
  | { readonly kind: 'read'; readonly end: boolean; readonly ranksRead: number; readonly next: WalkPosition };

/** Overlap for pages of `capacity` photos: at most a quarter of a page, so each page still moves on. */
export function overlapFor(capacity: number): number {
  return Math.max(1, Math.min(WALK_OVERLAP, Math.floor(capacity / 4)));
}

/** The step after `page`, read at `at`, for pages of `capacity` photos. */
export function stepWalk(at: WalkPosition, page: WalkPage, capacity: number): WalkStep {
  const expected = new Set(at.overlap ?? []);
  const found = page.present.some((name) => expected.has(name));
  // Right after stepping back, a page is taken as it is: a walk always ends.
  if (expected.size > 0 && !found && at.startRank > 0 && at.recovered !== true) {
    const retreats = (at.retreats ?? 0) + 1;
    const back = capacity * 2 ** Math.min(retreats - 1, 20);
    return {
      kind: 'retreat',
      next: { startRank: Math.max(0, at.startRank - back), overlap: [...expected], retreats },
    };
  }
  const ranksRead = at.startRank + page.ranks;
  // An empty page: probe a page further on, as kei does (docs/protocol/cloudkit.md#paging).
  if (page.ranks === 0)
    return { kind: 'read', end: true, ranksRead, next: { startRank: at.startRank + capacity } };
  if (page.fresh === 0 && page.ranks < capacity)
    return { kind: 'read', end: true, ranksRead, next: { startRank: ranksRead } };
  // At least one rank further each page; a page of one photo overlaps nothing.
  const keep = Math.min(overlapFor(capacity), page.ranks - 1);
  if (keep === 0) return { kind: 'read', end: false, ranksRead, next: { startRank: ranksRead } };
  return {
    kind: 'read',
    end: false,
    ranksRead,
    next: {
      startRank: ranksRead - keep,
      overlap: [...new Set(page.read)],
      ...((at.retreats ?? 0) > 0 ? { recovered: true } : {}),
    },
  };
}

/**
 * A page of a walk whose records are one per rank and named by their asset (an album's members):
 * those not read before, and the next page's position, absent once the walk is over (`more`: the
 * index may go on past the page: a marker came, or the page was full).
 */
export function walkNamed<T extends { readonly assetRecordName: string }>(
  at: WalkPosition,
  items: readonly T[],
  more: boolean,
  capacity: number,
): { members: T[]; next?: WalkPosition } {
  const names = items.map((item) => item.assetRecordName);
  const seen = new Set(at.overlap);
  const members = items.filter((item) => !seen.has(item.assetRecordName));
  const step = stepWalk(
    at,
    { ranks: names.length, present: names, fresh: members.length, read: names },
    capacity,
  );
  if (step.kind === 'retreat') return { members: [], next: step.next };
  return more && !step.end ? { members, next: step.next } : { members };
}
