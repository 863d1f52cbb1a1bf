/**
 * Where Shared Albums come from (docs/protocol/shared-albums.md): the list of albums the account
 * owns or joined, each album's items page by page (with fresh download URLs), and an item's
 * comments. Two adapters: the legacy `sharedstreams` web service, and new-generation albums in
 * CloudKit `SharedCollection-<UUID>` zones; a composite lists both.
 */
import type { SharedAlbum, SharedComment, SharedItem } from '#domain/shared-albums/model.ts';
import type { CollectionTokens } from '#domain/shared-albums/state.ts';
import type { UnexpectedResponseError } from '../domain/errors.ts';

export interface SharedAlbumList {
  /**
   * False when the account's session lists no shared-albums service: nothing was asked of
   * Apple, and there is nothing to archive (not an error).
   */
  readonly available: boolean;
  readonly albums: readonly SharedAlbum[];
  /** True when every database was asked for new-generation albums (none skipped). */
  readonly everyDatabaseAsked?: boolean;
  /** The tokens the next listing may start from (absent: keep the stored ones). */
  readonly tokens?: CollectionTokens;
  /**
   * Set when both kinds would have cost a request and only this one was checked (the other's
   * albums stand as last listed): the next such listing checks the other.
   */
  readonly checkedAlone?: SharedAlbumKind;
  /** True when a database needed a request that `requestless` forbade: its known albums stand as listed last. */
  readonly deferred?: boolean;
  /**
   * Whether the legacy service is there: `found` when the session lists it (from the start, or
   * once Apple's account, asked for it (`KnownSharedAlbums.lookUpService`), listed it and it was
   * stored); `none` when the session listed none and the account, asked, did not either (or the
   * question failed); absent when the session lists none and the account was not asked.
   */
  readonly serviceLookup?: 'found' | 'none';
  /** True when this listing asked the account for the service (`sync --dry-run` says so). */
  readonly accountAsked?: boolean;
}

/** The two kinds of listing a run may have to pay for: the legacy service, the new generation's. */
export type SharedAlbumKind = 'legacy' | 'newGeneration';

export interface KnownSharedAlbums {
  /** Albums of the last listing still visible then. */
  readonly albums: readonly SharedAlbum[];
  /**
   * Ask every database for new-generation albums, whatever the library's change feed of this
   * run showed: on a cadence (skipped runs are not in this run's feed) and once a day.
   */
  readonly askEveryDatabase: boolean;
  /** The tokens the last listing left (`SharedAlbumList.tokens`). */
  readonly tokens?: CollectionTokens;
  /** The kind checked alone last time both would have cost a request (`SharedAlbumList.checkedAlone`). */
  readonly checkedAlone?: SharedAlbumKind;
  /** New generation only: make no request; a database that would need one keeps its known albums. */
  readonly requestless?: boolean;
  /**
   * Legacy only: when the session lists no service, ask Apple's account for it (one
   * `accountLogin`, the session saved with what it learns) before answering it unavailable. A
   * session stored by a release from before Shared Albums lacks it while its cookies still work.
   */
  readonly lookUpService?: boolean;
}

export interface SharedItemsPage {
  readonly items: readonly SharedItem[];
  /** Records that could not be read; the rest of the page still counts. */
  readonly problems: readonly UnexpectedResponseError[];
  /**
   * The album's name and owner as the page's source read them, when its listing could not
   * (new generation: the zone's share record, read with the items). The worker files the album
   * under this name.
   */
  readonly album?: Pick<SharedAlbum, 'name'> & Partial<Pick<SharedAlbum, 'ownerName'>>;
}

/**
 * What the download workers read of an album the detector listed: its items and their comments.
 * Their Lambda composes this alone, without the listing (`SharedAlbumSource`).
 */
export interface SharedAlbumItems {
  /**
   * Items `[offset, end)` of the album (`end` is an index, not a page size). Throws
   * `SharedAlbumGoneError` when the album is no longer visible to the caller.
   */
  itemsPage(album: SharedAlbum, offset: number, end: number): Promise<SharedItemsPage>;
  /** Comments and likes of one item; an empty list when Apple has none. */
  comments(album: SharedAlbum, assetGuid: string): Promise<readonly SharedComment[]>;
}

export interface SharedAlbumSource extends SharedAlbumItems {
  /**
   * Every album the account owns or joined. Legacy: one request (`webgetalbumslist`) when the
   * service exists; none otherwise. New generation: `known` (the albums the last listing found;
   * absent = nothing known, list everything) lets a database with no album zone, known or just
   * reported by the library's own `changes/database`, cost no request.
   */
  listAlbums(known?: KnownSharedAlbums): Promise<SharedAlbumList>;
}
