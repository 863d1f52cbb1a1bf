/**
 * Both generations of Shared Albums behind the one port: the legacy `sharedstreams` albums and the
 * new-generation `SharedCollection-<UUID>` zones (docs/protocol/shared-albums.md). Listing asks
 * both; an album's items and comments come from the generation that listed it. The two keep
 * their own ids (a legacy `albumguid`, a zone name), so an album Apple migrates would show twice
 * rather than be lost.
 */
import type { SharedAlbum, SharedComment } from '#domain/shared-albums/model.ts';
import type {
  KnownSharedAlbums,
  SharedAlbumList,
  SharedAlbumSource,
  SharedItemsPage,
} from '#ports/shared-album-source.ts';

export class CombinedSharedAlbumSource implements SharedAlbumSource {
  readonly #legacy: SharedAlbumSource;
  readonly #collections: SharedAlbumSource;

  constructor(legacy: SharedAlbumSource, collections: SharedAlbumSource) {
    this.#legacy = legacy;
    this.#collections = collections;
  }

  async listAlbums(known?: KnownSharedAlbums): Promise<SharedAlbumList> {
    const [legacy, collections] = await Promise.all([
      this.#legacy.listAlbums(known),
      this.#collections.listAlbums(known),
    ]);
    return {
      available: legacy.available || collections.available,
      albums: [...legacy.albums, ...collections.albums],
      ...(collections.everyDatabaseAsked === undefined
        ? {}
        : { everyDatabaseAsked: collections.everyDatabaseAsked }),
      ...(collections.tokens === undefined ? {} : { tokens: collections.tokens }),
    };
  }

  itemsPage(album: SharedAlbum, offset: number, end: number): Promise<SharedItemsPage> {
    return this.#of(album).itemsPage(album, offset, end);
  }

  comments(album: SharedAlbum, assetGuid: string): Promise<readonly SharedComment[]> {
    return this.#of(album).comments(album, assetGuid);
  }

  #of(album: SharedAlbum): SharedAlbumSource {
    return album.collection === undefined ? this.#legacy : this.#collections;
  }
}
