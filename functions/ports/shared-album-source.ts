/**
 * Where Shared Albums come from (docs/protocol/shared-albums.md): the list of albums the account
 * owns or joined, each album's items page by page (with fresh download URLs), and an item's
 * comments. One real adapter (the legacy `sharedstreams` web service).
 */
import type { SharedAlbum, SharedComment, SharedItem } from '#domain/shared-albums/model.ts';
import type { UnexpectedResponseError } from '../domain/errors.ts';

export interface SharedAlbumList {
  /**
   * False when the account's session lists no shared-albums service: nothing was asked of
   * Apple, and there is nothing to archive (not an error).
   */
  readonly available: boolean;
  readonly albums: readonly SharedAlbum[];
}

export interface SharedItemsPage {
  readonly items: readonly SharedItem[];
  /** Records that could not be read; the rest of the page still counts. */
  readonly problems: readonly UnexpectedResponseError[];
}

export interface SharedAlbumSource {
  /** One request (`webgetalbumslist`) when the service exists; none otherwise. */
  listAlbums(): Promise<SharedAlbumList>;
  /**
   * Items `[offset, end)` of the album (`end` is an index, not a page size). Throws
   * `SharedAlbumGoneError` when the album is no longer visible to the caller.
   */
  itemsPage(album: SharedAlbum, offset: number, end: number): Promise<SharedItemsPage>;
  /** Comments and likes of one item; an empty list when Apple has none. */
  comments(album: SharedAlbum, assetGuid: string): Promise<readonly SharedComment[]>;
}
