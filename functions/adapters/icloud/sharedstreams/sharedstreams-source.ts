/**
 * The `SharedAlbumSource` over the legacy `sharedstreams` web service
 * (docs/protocol/shared-albums.md): one `webgetalbumslist` per listing, `webgetassets` per page,
 * `getcomments` per item asked for. A listing asks nothing when the last one found no legacy
 * album and every source is not due to be asked again (daily, or on a cadence): an account
 * without legacy albums (albums made since iOS 27 are new-generation) pays no request for them on
 * most runs, and an album it is invited to later is found by the next look at everything. The
 * download workers read items and comments alone (`SharedStreamsItems`), the detector lists.
 */
import type { SharedAlbum, SharedComment } from '#domain/shared-albums/model.ts';
import type {
  KnownSharedAlbums,
  SharedAlbumItems,
  SharedAlbumList,
  SharedAlbumSource,
  SharedItemsPage,
} from '#ports/shared-album-source.ts';
import { mapAlbums, mapItems } from './map-shared-records.ts';
import type { SharedStreamsClient } from './sharedstreams-client.ts';

/** Items and comments of albums listed before (no listing: the download workers read no more). */
export class SharedStreamsItems implements SharedAlbumItems {
  readonly #client: SharedStreamsClient;

  constructor(client: SharedStreamsClient) {
    this.#client = client;
  }

  async itemsPage(album: SharedAlbum, offset: number, end: number): Promise<SharedItemsPage> {
    const records = await this.#client.assets(album.location, album.albumguid, album.ctag, offset, end);
    return mapItems(records);
  }

  async comments(album: SharedAlbum, assetGuid: string): Promise<readonly SharedComment[]> {
    const comments = await this.#client.comments(album.location, album.albumguid, assetGuid);
    return comments.map((c) => ({
      kind: String(c.commenttype) === '1' ? 'like' : 'text',
      text: c.comment ?? '',
      author: c.fullname ?? '',
      ...(c.commenttimestamp === undefined ? {} : { at: c.commenttimestamp }),
    }));
  }
}

/** The whole source: the listing, and items and comments as `SharedStreamsItems` reads them. */
export class SharedStreamsSource extends SharedStreamsItems implements SharedAlbumSource {
  readonly #client: SharedStreamsClient;
  readonly #lookUpAccount: (() => Promise<void>) | undefined;

  /** `lookUpAccount`: asks Apple's account for the session's services and stores them (accountLogin). */
  constructor(client: SharedStreamsClient, lookUpAccount?: () => Promise<void>) {
    super(client);
    this.#client = client;
    this.#lookUpAccount = lookUpAccount;
  }

  async listAlbums(known?: KnownSharedAlbums): Promise<SharedAlbumList> {
    // No service in the session (not activated, or a session stored before it was read): no
    // request, unless the caller wants the account asked for it.
    if (!this.#client.available) {
      const asked = known?.lookUpService === true && this.#lookUpAccount !== undefined;
      if (!known?.lookUpService || !(await this.#lookedUp())) {
        return {
          available: false,
          albums: [],
          ...(known?.lookUpService ? { serviceLookup: 'none' } : {}),
          ...(asked ? { accountAsked: true } : {}),
        };
      }
      return { available: true, albums: await this.#list(known), serviceLookup: 'found', accountAsked: true };
    }
    // `found`: the session lists the service, so a mark that it was missing (a session an older
    // release stored, then a `login`) is cleared.
    const legacyKnown = known?.albums.some((a) => a.collection === undefined) ?? true;
    if (known !== undefined && !known.askEveryDatabase && !legacyKnown)
      return { available: true, albums: [], serviceLookup: 'found' };
    return { available: true, albums: await this.#list(known), serviceLookup: 'found' };
  }

  /**
   * The listed albums. An entry the mapper could not read might be any known album: with such
   * problems every known legacy album not listed stands as listed last, so none is taken as left.
   */
  async #list(known: KnownSharedAlbums | undefined): Promise<SharedAlbum[]> {
    const { albums, problems } = mapAlbums(await this.#client.albumsList());
    if (problems.length === 0) return [...albums];
    const listed = new Set(albums.map((a) => a.albumguid));
    const standing = (known?.albums ?? []).filter(
      (a) => a.collection === undefined && !listed.has(a.albumguid),
    );
    return [...albums, ...standing];
  }

  /**
   * Whether the account, asked, lists the service. A failed question counts as "not listed": the
   * caller waits a day before asking again, and a refused session surfaces on the library's calls.
   * An answer whose session save alone failed still counts (the run's last save stores it).
   */
  async #lookedUp(): Promise<boolean> {
    if (this.#lookUpAccount === undefined) return false;
    await this.#lookUpAccount().catch(() => undefined);
    return this.#client.available;
  }
}
