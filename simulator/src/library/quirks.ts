/**
 * CloudKit quirk switches (`POST /__sim/quirks`). All off by default; each reproduces one behaviour
 * peers have seen or fear, so client code can be tested against it.
 */
import { z } from 'zod';

export const quirksSchema = z
  .object({
    /** Statement 58: fill pages with exactly `resultsLimit` records, splitting master/asset pairs. */
    splitPairs: z.boolean(),
    /** Statement 59: interleave masters and assets within a page instead of masters first. */
    shuffle: z.boolean(),
    /** Statement 63: the page starting at this photo rank comes back empty (no marker). */
    emptyPageAtRank: z.number().int().min(0).nullable(),
    /** Statement 66: these record names come back as inline error items in queries and lookups. */
    inlineErrors: z.array(z.string()),
    /** Statement 69: added to every `itemCount`. */
    countDrift: z.number().int(),
    /** Statement 55: `CheckIndexingState` reports RUNNING with this progress (0-99); null = FINISHED. */
    indexingProgress: z.number().int().min(0).max(99).nullable(),
    /** Statement 95: serve `isDeleted: 0` on never-deleted assets (pyicloud fixtures). */
    explicitIsDeletedZero: z.boolean(),
    /** Statement 97: serve `dateExpunged` as `{"value": null}` on trashed records (kei's description). */
    dateExpungedNull: z.boolean(),
    /** Statement 87: these tokens are rejected with BAD_REQUEST as if expired. */
    expiredTokens: z.array(z.string()),
    /** Statement 89: `moreComing: null` in `changes/zone`. */
    moreComingNull: z.boolean(),
    /** 2018 cassette shapes: zones without per-zone token/`deleted`, record `zoneID`s without `zoneType`. */
    cassetteShapes: z.boolean(),
    /** Statement 71: a stale `recordChangeTag` in `records/modify` yields CONFLICT. */
    strictChangeTags: z.boolean(),
    /**
     * Statement 52: the private database also lists an Image Playground zone
     * (`AppLibrarySync-com.apple.GenerativePlayground-<UUID>`) and a share-link zone (`CMM-<UUID>`),
     * and `changes/database` reports them as changed on every call. Photo clients must skip them.
     */
    otherAppZones: z.boolean(),
  })
  .strict();

export type Quirks = z.infer<typeof quirksSchema>;

export const DEFAULT_QUIRKS: Quirks = {
  splitPairs: false,
  shuffle: false,
  emptyPageAtRank: null,
  inlineErrors: [],
  countDrift: 0,
  indexingProgress: null,
  explicitIsDeletedZero: false,
  dateExpungedNull: false,
  expiredTokens: [],
  moreComingNull: false,
  cassetteShapes: false,
  strictChangeTags: false,
  otherAppZones: false,
};

/** `POST /quirks` body: any subset, or `{"reset": true}` first. */
export const quirksPatchSchema = quirksSchema.partial().extend({ reset: z.boolean().optional() }).strict();
