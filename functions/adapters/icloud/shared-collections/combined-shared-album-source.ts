/**
 * Both generations of Shared Albums behind the one port: the legacy `sharedstreams` albums and the
 * new-generation `SharedCollection-<UUID>` zones (docs/protocol/shared-albums.md). Listing asks
 * both, except that when each would cost a request of its own (legacy albums known, and a
 * new-generation database the library's answer did not cover) only the one checked alone less
 * recently is asked and the other's albums stand as last listed; an album's items and comments come from the generation that listed it. The two keep
 * their own ids (a legacy `albumguid`, a zone name), so an album Apple migrates would show twice
 * rather than be lost. The download workers read items and comments alone
 * (`CombinedSharedAlbumItems`), the detector lists.
 */
import type { SharedAlbum, SharedComment } from '#domain/shared-albums/model.ts';
import type {
  KnownSharedAlbums,
  SharedAlbumItems,
  SharedAlbumList,
  SharedAlbumSource,
  SharedItemsPage,
} from '#ports/shared-album-source.ts';

/** Items and comments, each from the generation that listed the album (no listing). */
export class CombinedSharedAlbumItems implements SharedAlbumItems {
  readonly #legacy: SharedAlbumItems;
  readonly #collections: SharedAlbumItems;

  constructor(legacy: SharedAlbumItems, collections: SharedAlbumItems) {
    this.#legacy = legacy;
    this.#collections = collections;
  }

  itemsPage(album: SharedAlbum, offset: number, end: number): Promise<SharedItemsPage> {
    return this.#of(album).itemsPage(album, offset, end);
  }

  comments(album: SharedAlbum, assetGuid: string): Promise<readonly SharedComment[]> {
    return this.#of(album).comments(album, assetGuid);
  }

  #of(album: SharedAlbum): SharedAlbumItems {
    return album.collection === undefined ? this.#legacy : this.#collections;
  }
}

/** The whole source: the listing of both generations, and their items as `CombinedSharedAlbumItems` reads them. */
export class CombinedSharedAlbumSource extends CombinedSharedAlbumItems implements SharedAlbumSource {
  readonly #legacy: SharedAlbumSource;
  readonly #collections: SharedAlbumSource;

  constructor(legacy: SharedAlbumSource, collections: SharedAlbumSource) {
    super(legacy, collections);
    this.#legacy = legacy;
    this.#collections = collections;
  }

  async listAlbums(known?: KnownSharedAlbums): Promise<SharedAlbumList> {
    const legacyCosts =
      known !== undefined && !known.askEveryDatabase && known.albums.some((a) => a.collection === undefined);
    if (!legacyCosts) {
      const [legacy, collections] = await Promise.all([
        this.#legacy.listAlbums(known),
        this.#collections.listAlbums(known),
      ]);
      return combine(legacy, collections);
    }
    // Both kinds known: when the new generation too needs a request of its own, check only the kind
    // checked alone less recently, so an idle run costs one request (docs/protocol/shared-albums.md).
    const free = await this.#collections.listAlbums({ ...known, requestless: true });
    if (free.deferred !== true) return combine(await this.#legacy.listAlbums(known), free);
    if (known.checkedAlone === 'legacy') {
      const asLast = { available: true, albums: known.albums.filter((a) => a.collection === undefined) };
      return { ...combine(asLast, await this.#collections.listAlbums(known)), checkedAlone: 'newGeneration' };
    }
    const { deferred: _deferred, ...collections } = free;
    return { ...combine(await this.#legacy.listAlbums(known), collections), checkedAlone: 'legacy' };
  }
}

function combine(legacy: SharedAlbumList, collections: SharedAlbumList): SharedAlbumList {
  return {
    available: legacy.available || collections.available,
    albums: [...legacy.albums, ...collections.albums],
    ...(collections.everyDatabaseAsked === undefined
      ? {}
      : { everyDatabaseAsked: collections.everyDatabaseAsked }),
    ...(collections.tokens === undefined ? {} : { tokens: collections.tokens }),
    ...(legacy.serviceLookup === undefined ? {} : { serviceLookup: legacy.serviceLookup }),
    ...(legacy.accountAsked ? { accountAsked: true } : {}),
  };
}
