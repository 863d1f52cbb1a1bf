/**
 * The `SharedAlbumSource` over new-generation Shared Albums (docs/protocol/shared-albums.md#new-generation):
 * CloudKit `SharedCollection-<UUID>` zones of the Photos container, owned ones in the private
 * database and joined ones in the shared database.
 *
 * Listing: one `changes/database` per database without a token, which names every zone with its
 * current sync token; the token is the album's change tag. A database is asked only when the last
 * listing found an album zone there, when the library's own `changes/database` of this run (seen
 * through the client) reported one, or, for the private database, when the library did not ask
 * it this run, and every database when told to (on a cadence, whose skipped runs this run's
 * library changes cannot cover, and once a day as a safety net); so an account without new-generation albums pays no request for them,
 * and one with them pays one per database that holds them. A newly joined album (shared database,
 * none known there) is therefore found when the library next reads the shared database, or at
 * the latest by the daily ask. Items: the zone read from its
 * start through `changes/zone` (one request per 200 records), once per change tag, then served
 * as index ranges. Record shapes are read only by map-collection-records.ts.
 */
import { ZoneNotFoundError } from '#domain/errors.ts';
import { SharedAlbumGoneError } from '#domain/shared-albums/errors.ts';
import type { SharedAlbum, SharedComment } from '#domain/shared-albums/model.ts';
import type {
  KnownSharedAlbums,
  SharedAlbumList,
  SharedAlbumSource,
  SharedItemsPage,
} from '#ports/shared-album-source.ts';
import type { CloudKitClient } from '../cloudkit/cloudkit-client.ts';
import {
  collectionZonesOf,
  isCollectionZoneName,
  type ListedCollection,
  type MappedCollection,
  mapCollection,
} from './map-collection-records.ts';

/** Pages of one zone read per album before giving up (200 records each: 5,000 items fit). */
const MAX_ZONE_PAGES = 60;
/** A database not asked this listing. */
const SKIPPED: readonly ListedCollection[] = [];

export class SharedCollectionsSource implements SharedAlbumSource {
  readonly #client: CloudKitClient;
  /** One read per album and change tag within this worker. */
  readonly #read = new Map<string, Promise<MappedCollection>>();

  /** What the library's `changes/database` calls of this process showed (`zones/list` style entries). */
  readonly #observed = new Map<'private' | 'shared', { collectionZones: boolean }>();
  #listing = false;

  constructor(client: CloudKitClient) {
    this.#client = client;
    client.observeDatabaseChanges((database, zones) => {
      if (this.#listing) return;
      const before = this.#observed.get(database)?.collectionZones ?? false;
      const collectionZones = before || zones.some((z) => isCollectionZoneName(z.zoneID.zoneName));
      this.#observed.set(database, { collectionZones });
    });
  }

  async listAlbums(known?: KnownSharedAlbums): Promise<SharedAlbumList> {
    const lists = await Promise.all(
      (['private', 'shared'] as const).map(async (database) => {
        const knownHere = (known?.albums ?? []).some((a) => a.collection?.database === database);
        const seen = this.#observed.get(database);
        // Nothing known here and the library's own answer (this run) showed no album zone: no request.
        const unneeded =
          known?.askEveryDatabase === false &&
          !knownHere &&
          !seen?.collectionZones &&
          (seen !== undefined || database === 'shared');
        return unneeded ? SKIPPED : this.#allZones(database);
      }),
    );
    const albums: SharedAlbum[] = lists.flat().map(({ zone, syncToken }) => ({
      albumguid: zone.zoneName,
      // The title lives in the zone's share record, read with the items (SharedItemsPage.album).
      name: known?.albums.find((a) => a.albumguid === zone.zoneName)?.name ?? '',
      location: '',
      ctag: syncToken,
      ownerDsid: zone.ownerRecordName,
      sharingType: zone.database === 'private' ? 'owned' : 'subscribed',
      isPublic: false,
      collection: zone,
    }));
    return { available: true, albums, everyDatabaseAsked: lists.every((l) => l !== SKIPPED) };
  }

  async itemsPage(album: SharedAlbum, offset: number, end: number): Promise<SharedItemsPage> {
    const mapped = await this.#zone(album);
    return {
      items: mapped.items.slice(offset, Math.max(offset, end)),
      problems: offset === 0 ? mapped.problems : [],
      ...(mapped.title === undefined
        ? {}
        : { album: { name: mapped.title, ...(mapped.ownerName ? { ownerName: mapped.ownerName } : {}) } }),
    };
  }

  /** From the zone read for the items (no request of its own); reactions are not mapped yet. */
  async comments(album: SharedAlbum, assetGuid: string): Promise<readonly SharedComment[]> {
    return (await this.#zone(album)).comments.get(assetGuid) ?? [];
  }

  async #allZones(database: 'private' | 'shared') {
    this.#listing = true;
    try {
      return await this.#allZonesListed(database);
    } finally {
      this.#listing = false;
    }
  }

  async #allZonesListed(database: 'private' | 'shared') {
    let result = await this.#client.changesDatabase(database);
    const entries = [...result.zones];
    while (result.moreComing) {
      result = await this.#client.changesDatabase(database, result.syncToken);
      entries.push(...result.zones);
    }
    return collectionZonesOf(database, entries, undefined);
  }

  #zone(album: SharedAlbum): Promise<MappedCollection> {
    const key = `${album.albumguid}\0${album.ctag}`;
    let read = this.#read.get(key);
    if (read === undefined) {
      read = this.#readZone(album);
      this.#read.set(key, read);
      read.catch(() => this.#read.delete(key));
    }
    return read;
  }

  async #readZone(album: SharedAlbum): Promise<MappedCollection> {
    const zone = album.collection;
    if (zone === undefined) throw new Error(`${album.albumguid} is not a new-generation album`);
    const ref = {
      database: zone.database,
      zoneName: zone.zoneName,
      ...(zone.database === 'shared' ? { ownerRecordName: zone.ownerRecordName } : {}),
    };
    const records: unknown[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_ZONE_PAGES; page++) {
      const result = await this.#client.changesZone(ref, token, undefined, 'all').catch((error: unknown) => {
        // The zone went between listing and reading: deleted, or left (the port's contract).
        throw error instanceof ZoneNotFoundError ? new SharedAlbumGoneError(album.albumguid) : error;
      });
      records.push(...result.records);
      const more = result.moreComing ?? result.syncToken !== token;
      token = result.syncToken;
      if (!more) break;
    }
    return mapCollection(records);
  }
}
