/**
 * Where the next page of a walk by rank starts, and which photos of a page are new
 * (docs/protocol/cloudkit.md#paging, docs/reliability.md finding 17).
 *
 * A rank is a photo's place in the index now, not when the walk began: a photo trashed, hidden
 * or deleted at a rank already read moves every later photo down by one, so starting the next
 * page at "last start + photos seen" would skip the photo that slid onto the page just read.
 * Nothing else would ever name it (it did not change). So each page starts `overlap` photos
 * before where the last one ended and must contain one of the photos it ended with (their
 * record names ride in the cursor): up to `overlap` removals between two reads are absorbed at
 * no extra request, and the photos read twice are dropped by name. A page that contains none of
 * them means more removals than that (or those photos are gone): the walk steps back a page,
 * then two, four…, until one is found or rank 0, and reads forward again from there. Stepping
 * back costs requests, never a photo: everything from the page it lands on is read again.
 *
 * Pure: the CloudKit source and the test fake page the same way.
 */

/** Photos each page re-reads of the one before (bounded by a quarter of the page). */
export const WALK_OVERLAP = 5;

/** The rank part of a walk's cursor (stored in the zone checkpoint; every field but `startRank` optional). */
export interface WalkPosition {
  /** Rank of the next page's first photo. */
  readonly startRank: number;
  /** Record names of the last photos read, in rank order: the next page must contain one. */
  readonly overlap?: readonly string[];
  /** Pages stepped back in a row looking for `overlap`. */
  readonly retreats?: number;
  /** The last step found `overlap` after stepping back: an empty page next is the end, not a shift. */
  readonly recovered?: boolean;
}

export type WalkStep =
  /** The page is not the continuation of what was read: drop it, query `next` instead. */
  | { readonly kind: 'retreat'; readonly next: WalkPosition }
  /**
   * The page continues the walk. `fresh`: its photos not read before (page order). `end`: it held
   * nothing new (the index ends here, or an empty page: the caller probes as before); `ranksRead`
   * is then where the index ended. `next` is the following page's position.
   */
  | {
      readonly kind: 'read';
      readonly fresh: readonly string[];
      readonly end: boolean;
      readonly ranksRead: number;
      readonly next: WalkPosition;
    };

/** Overlap for pages of `capacity` photos: at most a quarter of a page, so each page still moves on. */
export function overlapFor(capacity: number): number {
  return Math.max(1, Math.min(WALK_OVERLAP, Math.floor(capacity / 4)));
}

/**
 * The step after a page of `names` (the rank units of the page, in page order) read at `at`, for
 * pages of `capacity` photos.
 */
export function stepWalk(at: WalkPosition, names: readonly string[], capacity: number): WalkStep {
  const expected = new Set(at.overlap ?? []);
  const found = names.some((name) => expected.has(name));
  const emptyAfterRecovery = names.length === 0 && at.recovered === true;
  if (expected.size > 0 && !found && at.startRank > 0 && !emptyAfterRecovery) {
    const retreats = (at.retreats ?? 0) + 1;
    const back = capacity * 2 ** Math.min(retreats - 1, 20);
    return {
      kind: 'retreat',
      next: {
        startRank: Math.max(0, at.startRank - back),
        ...(at.overlap ? { overlap: at.overlap } : {}),
        retreats,
      },
    };
  }
  const fresh = names.filter((name) => !expected.has(name));
  const ranksRead = at.startRank + names.length;
  if (fresh.length === 0) {
    return { kind: 'read', fresh, end: true, ranksRead, next: { startRank: ranksRead } };
  }
  const keep = Math.min(overlapFor(capacity), names.length);
  return {
    kind: 'read',
    fresh,
    end: false,
    ranksRead,
    next: {
      startRank: ranksRead - keep,
      overlap: names.slice(names.length - keep),
      ...((at.retreats ?? 0) > 0 ? { recovered: true } : {}),
    },
  };
}
