/**
 * Where the photos come from: what change detection and the download workers need from iCloud,
 * in the domain's words. One real adapter (CloudKit over HTTP); cursors are plain JSON so the
 * pipeline can persist them between pages and between Lambda invocations.
 */

import type { AlbumMember } from '#domain/model/album.ts';
import type { Album, Asset, ZoneChange } from '#domain/model/asset.ts';
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import type { UnexpectedResponseError } from '../domain/errors.ts';

/** Record names of master/asset halves still waiting for their partner (a few bytes each). */
export interface UnpairedHalves {
  readonly masters: readonly string[];
  readonly assets: readonly string[];
}

/**
 * Resume point of a zone's change feed. Persist it whole, after the page's changes are durable.
 * `syncToken` absent means "from the beginning of the zone's history".
 */
export interface ZoneChangesCursor {
  readonly syncToken?: string;
  /** Halves seen on earlier pages whose partner has not come yet; re-fetched if the process restarts. */
  readonly unpaired?: UnpairedHalves;
}

export interface ZoneChangesPage {
  /** Albums, paired assets, memberships, tombstones; on the last page also asset-only changes. */
  readonly changes: readonly ZoneChange[];
  /** Pass back to get the next page; persist it when `changes` are durable. */
  readonly cursor: ZoneChangesCursor;
  /** The zone token after this page; once `moreComing` is false, the zone's caught-up token. */
  readonly syncToken: string;
  /** More pages follow. An empty page with `moreComing` true is normal (docs/protocol/sync-tokens.md#changes-zone): keep going. */
  readonly moreComing: boolean;
  /** On the last page: masters whose asset never came (their assets did not change; logged, not lost). */
  readonly unpairedMasters: readonly string[];
  /** Records that could not be read; the rest of the page still counts. */
  readonly problems: readonly UnexpectedResponseError[] /**
   * Names of records CloudKit answered with an error entry in place of the record (and of assets
   * whose master it would not serve): not deleted, not read. Detection keeps them with the zone
   * and looks them up on later runs (`lookupAssets`), since the token moves past this page.
   */;
  readonly unreadable?: readonly string[];
}

/** Which photos a full enumeration walks (docs/protocol/cloudkit.md#indexes list indexes). */
export type EnumerationScope = 'library' | 'hidden' | 'recentlyDeleted';

/** Resume point of a full enumeration by records/query. Plain JSON. */
export interface EnumerationCursor {
  readonly scope: EnumerationScope;
  /** Rank (photo index) of the next page. */
  readonly startRank: number;
  /**
   * A marker cursors of older versions kept (sent once when resuming one); walks now page by
   * rank alone, with an overlap (`rank-walk.ts` in the CloudKit adapter).
   */
  readonly continuationMarker?: string;
  /** Record names read on the last page: the next page starts a few photos back and must contain one. */
  readonly overlap?: readonly string[];
  /** Pages stepped back in a row because the next page held none of `overlap` (photos removed meanwhile). */
  readonly retreats?: number;
  /** The last page was found by stepping back: the next one is taken as it is. */
  readonly recovered?: boolean;
  /** The zone token captured on the first page: store it as the zone token once the enumeration is complete. */
  readonly syncToken?: string;
  /** Photos the index held when the enumeration started (bounds the probing past empty pages). */
  readonly expectedCount?: number;
  /** Empty pages met in a row (kei probes past up to five, docs/protocol/cloudkit.md#paging). */
  readonly emptyPagesInARow?: number;
  readonly unpaired?: UnpairedHalves;
}

export interface EnumerationPage {
  /** Albums are not part of an enumeration; this holds `asset` changes only. */
  readonly changes: readonly ZoneChange[];
  readonly cursor: EnumerationCursor;
  /** True once the index is exhausted; `cursor.syncToken` is then the zone's change-tracking token. */
  readonly done: boolean;
  readonly problems: readonly UnexpectedResponseError[] /**
   * Names of records CloudKit answered with an error entry in place of the record (and of assets
   * whose master it would not serve): not deleted, not read. Detection keeps them with the zone
   * and looks them up on later runs (`lookupAssets`), since the token moves past this page.
   */;
  readonly unreadable?: readonly string[];
}

export interface ChangedZones {
  /** Photo zones (PrimarySync, SharedSync-*) that changed since the token; all of them without one. */
  readonly zones: readonly ZoneRef[];
  /** The database token to store once those zones are processed. */
  readonly syncToken: string;
  readonly moreComing: boolean;
}

/** Which asset to refresh; naming the master saves a request. */
export interface AssetLookupKey {
  readonly assetRecordName: string;
  readonly masterRecordName?: string;
}

export interface LookedUpAssets {
  /** Current state with fresh download URLs. */
  readonly assets: readonly Asset[];
  /**
   * Asset record names CloudKit answered, but not as a photo the mapping can read (a new record
   * shape, a field gone, its master unreadable): not gone, never a purge. Gone is `notFound`.
   */
  readonly missing: readonly string[];
  /**
   * Assets CloudKit answered with an error entry in place of the record (its or its master's):
   * not deleted, just not returned this time. `reason` is CloudKit's code and reason.
   */
  readonly unavailable: readonly { readonly assetRecordName: string; readonly reason: string }[];
  /**
   * Of `unavailable`, the assets whose own record CloudKit answered `NOT_FOUND` (or as a
   * tombstone, `deleted: true`): how a lookup reports a purged photo (error entries in place,
   * docs/protocol), and the only answer that may purge. Absent when the source cannot tell. A
   * refresh keeps what it had either way; the reconciling enumeration, which did not see these
   * assets either, takes it as the purge.
   */
  readonly notFound?: readonly string[];
}

/** Photo counts of one zone by kind; undefined where the zone has no such index. */
export interface AssetCounts {
  /** Everything not hidden and not in Recently Deleted. */
  readonly library: number | undefined;
  readonly hidden: number | undefined;
  readonly recentlyDeleted: number | undefined;
  readonly favorites: number | undefined;
  readonly videos: number | undefined;
  readonly livePhotos: number | undefined;
  readonly screenshots: number | undefined;
  readonly slomo: number | undefined;
  readonly panoramas: number | undefined;
  readonly timelapses: number | undefined;
  readonly bursts: number | undefined;
}

/** One page of the album list of a zone's top level or of one folder. */
export interface AlbumListPage {
  /** Albums and folders on this page, sentinels left out. */
  readonly albums: readonly Album[];
  /** Pass back for the next page; absent on the last. */
  readonly continuationMarker?: string;
  readonly problems: readonly UnexpectedResponseError[];
}

/**
 * Resume point of one album's contents (plain JSON). Walked by rank with an overlap, as an
 * enumeration is (`rank-walk.ts` in the CloudKit adapter): a member leaving the album meanwhile
 * moves every later one down a rank.
 */
export interface AlbumMembersCursor {
  /** Rank of the next page's first member. */
  readonly startRank: number;
  /** Members read on the last page: the next page starts a few members back and must contain one. */
  readonly overlap?: readonly string[];
  /** Pages stepped back in a row because the next page held none of `overlap`. */
  readonly retreats?: number;
  /** The last page was found by stepping back: the next one is taken as it is. */
  readonly recovered?: boolean;
}

/** One page of an album's members, in album order. */
export interface AlbumMembersPage {
  /** Members not on an earlier page of this walk (possibly none: a page stepped back to, read again). */
  readonly members: readonly AlbumMember[];
  /** Absent once the album is read to its end. */
  readonly next?: AlbumMembersCursor;
  readonly problems: readonly UnexpectedResponseError[];
}

/** Current copies of named assets: all the download workers read of the library. */
export interface AssetLookup {
  /** Current records of these assets, with fresh download URLs (docs/protocol/cdn.md#lifetime). */
  lookupAssets(zone: ZoneRef, keys: readonly AssetLookupKey[]): Promise<LookedUpAssets>;
}

export interface AssetSource extends AssetLookup {
  /** The photo zones of the account, each in the database that lists it (docs/protocol/cloudkit.md#databases). */
  discoverZones(): Promise<readonly ZoneRef[]>;
  /**
   * `changes/database`: which photo zones of `database` changed since `syncToken` (every zone
   * without one). Throws `StaleSyncTokenError` (with `database`) when CloudKit refuses the token.
   */
  changedZones(database: DatabaseScope, syncToken?: string): Promise<ChangedZones>;
  /**
   * One page of a zone's change feed, paired and mapped. Throws `StaleSyncTokenError` when CloudKit
   * refuses the token (enumerate afresh) and `ZoneNotFoundError` when the zone is gone.
   */
  zoneChangesPage(zone: ZoneRef, cursor?: ZoneChangesCursor): Promise<ZoneChangesPage>;
  /** One page of a full enumeration of `scope` (default `library`); start without a cursor. */
  enumeratePage(
    zone: ZoneRef,
    cursor?: EnumerationCursor,
    scope?: EnumerationScope,
  ): Promise<EnumerationPage>;
  /** Counts by kind, in one request. */
  countAssets(zone: ZoneRef): Promise<AssetCounts>;
  /**
   * One page of the albums and folders directly in `parentRecordName` (the top level without it;
   * docs/protocol/cloudkit.md#albums-and-folders: nested albums are listed only by their folder).
   */
  listAlbums(zone: ZoneRef, parentRecordName?: string, continuationMarker?: string): Promise<AlbumListPage>;
  /** One page of an album's members with their positions (docs/protocol/records.md#album-membership). */
  albumMembersPage(
    zone: ZoneRef,
    albumRecordName: string,
    cursor?: AlbumMembersCursor,
  ): Promise<AlbumMembersPage>;
}
