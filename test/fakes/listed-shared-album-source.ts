/**
 * A `SharedAlbumSource` over albums held in memory, counting the requests a real one would make:
 * `listAlbums` one listing (none when `available` is false), `itemsPage` one page, `comments` one.
 */
import { SharedAlbumGoneError } from '#domain/shared-albums/errors.ts';
import type { SharedAlbum, SharedComment, SharedItem } from '#domain/shared-albums/model.ts';
import type { SharedAlbumList, SharedAlbumSource, SharedItemsPage } from '#ports/shared-album-source.ts';

export class ListedSharedAlbumSource implements SharedAlbumSource {
  available = true;
  readonly albums = new Map<string, { album: SharedAlbum; items: SharedItem[] }>();
  readonly requests = { list: 0, pages: 0, comments: 0 };
  /** Comments and likes by item asset GUID (none unless set). */
  readonly commentsByItem = new Map<string, SharedComment[]>();

  put(album: SharedAlbum, items: SharedItem[] = []): void {
    this.albums.set(album.albumguid, { album, items });
  }

  async listAlbums(): Promise<SharedAlbumList> {
    if (!this.available) return { available: false, albums: [] };
    this.requests.list++;
    return { available: true, albums: [...this.albums.values()].map((a) => a.album) };
  }

  async itemsPage(album: SharedAlbum, offset: number, end: number): Promise<SharedItemsPage> {
    this.requests.pages++;
    const held = this.albums.get(album.albumguid);
    if (!held) throw new SharedAlbumGoneError(album.albumguid);
    return { items: held.items.slice(offset, Math.max(offset, end)), problems: [] };
  }

  async comments(_album: SharedAlbum, assetGuid: string): Promise<readonly SharedComment[]> {
    this.requests.comments++;
    return this.commentsByItem.get(assetGuid) ?? [];
  }
}
