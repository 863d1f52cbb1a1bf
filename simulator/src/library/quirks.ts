/**
 * CloudKit quirk switches (`POST /__sim/quirks`). All off by default; each reproduces one behaviour
 * peers have seen or fear, so client code can be tested against it.
 */
import * as z from 'zod';

export const quirksSchema = z
  .object({
    /** S58 in docs/protocol/simulator-contract.md#records-query: fill pages with exactly `resultsLimit` records, splitting master/asset pairs. */
    splitPairs: z.boolean(),
    /** S59 in docs/protocol/simulator-contract.md#records-query: interleave masters and assets within a page instead of masters first. */
    shuffle: z.boolean(),
    /** S63 in docs/protocol/simulator-contract.md#records-query: the page starting at this photo rank comes back empty (no marker). */
    emptyPageAtRank: z.number().int().min(0).nullable(),
    /** S66 in docs/protocol/simulator-contract.md#records-query: these record names come back as inline error items in queries and lookups. */
    inlineErrors: z.array(z.string()),
    /** S69 in docs/protocol/simulator-contract.md#records-query: added to every `itemCount`. */
    countDrift: z.number().int(),
    /** S55 in docs/protocol/simulator-contract.md#records-query: `CheckIndexingState` reports RUNNING with this progress (0-99); null = FINISHED. */
    indexingProgress: z.number().int().min(0).max(99).nullable(),
    /** S95 in docs/protocol/simulator-contract.md#records-and-library: serve `isDeleted: 0` on never-deleted assets (pyicloud fixtures). */
    explicitIsDeletedZero: z.boolean(),
    /** S97 in docs/protocol/simulator-contract.md#records-and-library: serve `dateExpunged` as `{"value": null}` on trashed records (kei's description). */
    dateExpungedNull: z.boolean(),
    /**
     * S87 in docs/protocol/simulator-contract.md#change-feeds: these tokens are rejected with BAD_REQUEST as if expired: a zone
     * token by `changes/zone` (a zone error), a database token by `changes/database` (top-level 400).
     */
    expiredTokens: z.array(z.string()),
    /** S89 in docs/protocol/simulator-contract.md#change-feeds: `moreComing: null` in `changes/zone`. */
    moreComingNull: z.boolean(),
    /** 2018 cassette shapes: zones without per-zone token/`deleted`, record `zoneID`s without `zoneType`. */
    cassetteShapes: z.boolean(),
    /** S71 in docs/protocol/simulator-contract.md#lookup-and-modify: a stale `recordChangeTag` in `records/modify` yields CONFLICT. */
    strictChangeTags: z.boolean(),
    /**
     * S52 in docs/protocol/simulator-contract.md#zones-and-databases: the private database also lists an Image Playground zone
     * (`AppLibrarySync-com.apple.GenerativePlayground-<UUID>`) and a share-link zone (`CMM-<UUID>`),
     * and `changes/database` reports them as changed on every call. Photo clients must skip them.
     */
    otherAppZones: z.boolean(),
    /**
     * S139 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: a share-link zone `CMM-<UUID>` in these databases' `zones/list` and
     * `changes/database` (ICPS #327 saw one in the private database, kei #289 in the shared one),
     * reported as changed on every call. Any `records/query` in it answers 400 `BAD_REQUEST`
     * "Index has invalid data", as Apple's does.
     */
    cmmZones: z.array(z.enum(['private', 'shared'])),
    /**
     * S140 in docs/protocol/simulator-contract.md#zones-records-downloads-2026 (unconfirmed, one unattributed fixture): the owner's private database also lists a
     * `SharedCollection-<UUID>` zone; `changes/zone` serves a `cloudkit.share` and a `CPLTextComment`
     * record, index queries answer 400 "Index has invalid data".
     */
    sharedCollectionZone: z.boolean(),
    /**
     * S141 in docs/protocol/simulator-contract.md#zones-records-downloads-2026 (one account, unconfirmed): the owner's primary zone is named `PrimarySync1`;
     * `{zoneName: "PrimarySync"}` answers ZONE_NOT_FOUND.
     */
    migratedPrimaryZone: z.boolean(),
    /** S141 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: `zones/list` also carries a failed entry (a `zoneID` plus `serverErrorCode`/`reason`). */
    zoneFetchError: z.boolean(),
    /**
     * S142 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: how boolean-like fields (`isDeleted`, `isExpunged`, `isHidden`, `isFavorite`,
     * `isKeyAsset`) are encoded, per record type and time window (simulated clock, ms, `from`
     * inclusive, `until` exclusive). The first matching rule wins; without one they are
     * `{"value": 0|1, "type": "INT64"}` (the recordings), with `boolean` `{"value": true|false}`.
     */
    booleanEncoding: z.array(
      z
        .object({
          recordType: z.string().min(1),
          encoding: z.enum(['int64', 'boolean']),
          from: z.number().optional(),
          until: z.number().optional(),
        })
        .strict(),
    ),
    /**
     * S143 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: these record names answer `records/lookup` with an error entry inside `records`
     * (`{recordName, serverErrorCode: "NOT_FOUND", reason}`, no `fields`) although queries and
     * change feeds still serve them: a URL refresh that cannot be answered (icloud-docker PR #540).
     */
    lookupErrors: z.array(z.string()),
    /**
     * Serve the `filenameEnc` values no recording shows Apple sending (not valid base64, or bytes
     * that are not UTF-8), from a peer's hand-edited fixtures, where the library plans them (seeded
     * slots, `/mutate {filenameEncoding}`). Off: those names are served as ordinary ENCRYPTED_BYTES,
     * and `/mutate` refuses to add them. For hostile-name tests only.
     */
    unrecordedFilenameEncodings: z.boolean(),
    /**
     * S94 in docs/protocol/simulator-contract.md#records-and-library, as recorded (icloudpd's cassette
     * `listing_photos_missing_downloadUrl`): the resources whose `fileChecksum` is listed here (an
     * original's is its master's record name) are served with `fileChecksum`, `size`, `wrappingKey`
     * and `referenceChecksum` but no `downloadURL`, in every query, change feed and lookup. The record
     * is not modified (no change tag, no delta): turning it off is Apple offering the URL again.
     */
    withheldDownloadUrls: z.array(z.string()),
    /**
     * Not Apple's behaviour: every `downloadURL` in records is this URL instead of a signed CDN URL,
     * as a hostile or compromised answer could carry (e.g. `http://127.0.0.1:PORT/secret`). Null:
     * off. For tests that clients fetch nothing outside Apple's asset CDN.
     */
    hostileDownloadUrl: z.string().url().nullable(),
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
  cmmZones: [],
  sharedCollectionZone: false,
  migratedPrimaryZone: false,
  zoneFetchError: false,
  booleanEncoding: [],
  lookupErrors: [],
  unrecordedFilenameEncodings: false,
  withheldDownloadUrls: [],
  hostileDownloadUrl: null,
};

/** `POST /quirks` body: any subset, or `{"reset": true}` first. */
export const quirksPatchSchema = quirksSchema.partial().extend({ reset: z.boolean().optional() }).strict();
