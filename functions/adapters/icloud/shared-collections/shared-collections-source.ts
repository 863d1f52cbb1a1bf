/**
 * The `SharedAlbumSource` over new-generation Shared Albums (docs/protocol/shared-albums.md#new-generation):
 * CloudKit `SharedCollection-<UUID>` zones of the Photos container, owned ones in the private
 * database and joined ones in the shared database.
 *
 * Listing: the album zones of a database and their sync tokens (a zone's token is the album's
 * change tag), per database the cheapest way that is still exact:
 * - told to ask every database (on a cadence, whose skipped runs this run's library changes
 *   cannot cover, and once a day as a safety net): one `changes/database` without a token;
 * - the library's own `changes/database` of this run (seen through the client) started from a
 *   token the last listing left (`KnownSharedAlbums.tokens`): its answer names every album zone
 *   that changed, appeared or went since, so the known albums plus that delta are the listing,
 *   at **no request** (an idle run of an account that owns albums pays nothing for them);
 * - nothing known there and the library's answer showed no album zone: nothing asked;
 * - otherwise one `changes/database` from the last token left (a delta), or without one.
 * A newly joined album (shared database, none known there) is therefore found when the library
 * next reads the shared database, or at the latest by the daily ask. Items: the zone read from its
 * start through `changes/zone` (one request per 200 records), once per change tag, then served
 * as index ranges. Record shapes are read only by map-collection-records.ts. The download workers
 * read items and comments alone (`SharedCollectionsItems`), the detector lists.
 */
import { StaleSyncTokenError, UnexpectedResponseError, ZoneNotFoundError } from '#domain/errors.ts';
import { SharedAlbumGoneError } from '#domain/shared-albums/errors.ts';
import type { SharedAlbum, SharedComment } from '#domain/shared-albums/model.ts';
import type { CollectionTokens } from '#domain/shared-albums/state.ts';
import type {
  KnownSharedAlbums,
  SharedAlbumItems,
  SharedAlbumList,
  SharedAlbumSource,
  SharedItemsPage,
} from '#ports/shared-album-source.ts';
import type {
  CloudKitClient,
  CloudKitRecordsClient,
  DatabaseChangesExchange,
} from '../cloudkit/cloudkit-client.ts';
import { isErrorEntry, type WireZoneEntry } from '../cloudkit/wire-schemas.ts';
import {
  collectionZonesOf,
  isCollectionZoneName,
  type ListedCollection,
  type MappedCollection,
  mapCollection,
} from './map-collection-records.ts';

/**
 * Pages of one zone read per album before giving up (200 records each: 50,000 records). An album
 * holds up to 5,000 items (two records each) and its comments, posts and reactions are records
 * too; at about a second a page the read stays well within the workers' 15 minutes. A zone still
 * `moreComing` here is a problem of the read (nothing removed, the album retried), never its end.
 */
export const MAX_ZONE_PAGES = 250;
/** A database not asked this listing. */
const SKIPPED: readonly ListedCollection[] = [];
/** Tokens kept per database: enough for the library's saved one and the one it answered since. */
const MAX_TOKENS = 3;

type Database = 'private' | 'shared';

/** One whole `changes/database` answer (its pages joined), from the token it was asked with. */
interface DatabaseDelta {
  /** Undefined: asked without a token (every zone). */
  readonly from?: string;
  readonly to: string;
  readonly zones: readonly WireZoneEntry[];
}

/** A database's listing and the tokens a next listing may start from. */
interface DatabaseListing {
  readonly zones: readonly ListedCollection[];
  readonly asked: boolean;
  /** A request was needed and `requestless` forbade it: `zones` are the known albums as last listed. */
  readonly deferred?: boolean;
  readonly tokens?: readonly string[];
}

/** Items and comments of albums listed before (no listing: the download workers read no more). */
export class SharedCollectionsItems implements SharedAlbumItems {
  readonly #client: CloudKitRecordsClient;
  /** One read per album and change tag within this worker. */
  readonly #read = new Map<string, Promise<MappedCollection>>();

  constructor(client: CloudKitRecordsClient) {
    this.#client = client;
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
    let more = true;
    for (let page = 0; more && page < MAX_ZONE_PAGES; page++) {
      const result = await this.#client.changesZone(ref, token, undefined, 'all').catch((error: unknown) => {
        // The zone went between listing and reading: deleted, or left (the port's contract).
        throw error instanceof ZoneNotFoundError ? new SharedAlbumGoneError(album.albumguid) : error;
      });
      records.push(...result.records);
      more = result.moreComing ?? result.syncToken !== token;
      token = result.syncToken;
    }
    const mapped = mapCollection(records);
    if (!more) return mapped;
    // Cut short: the items not read yet are not known to be gone.
    const cut = new UnexpectedResponseError(
      `shared collection ${zone.zoneName} still had more records after ${MAX_ZONE_PAGES} pages`,
    );
    return { ...mapped, problems: [...mapped.problems, cut] };
  }
}

/** The whole source: the listing, and items and comments as `SharedCollectionsItems` reads them. */
export class SharedCollectionsSource extends SharedCollectionsItems implements SharedAlbumSource {
  readonly #client: CloudKitClient;

  /** What the library's `changes/database` calls of this process showed (`zones/list` style entries). */
  readonly #observed = new Map<Database, { collectionZones: boolean }>();
  /** The library's latest whole answer per database, and the one being paged. */
  readonly #libraryDeltas = new Map<Database, DatabaseDelta>();
  readonly #paging = new Map<
    Database,
    { from?: string; zones: WireZoneEntry[]; last: DatabaseChangesExchange }
  >();
  #listing = false;

  constructor(client: CloudKitClient) {
    super(client);
    this.#client = client;
    client.observeDatabaseChanges((database, zones, exchange) => {
      if (this.#listing) return;
      const before = this.#observed.get(database)?.collectionZones ?? false;
      const collectionZones = before || zones.some((z) => isCollectionZoneName(z.zoneID.zoneName));
      this.#observed.set(database, { collectionZones });
      this.#follow(database, zones, exchange);
    });
  }

  /** Joins the pages of one library answer (each next page is asked from the previous one's token). */
  #follow(database: Database, zones: readonly WireZoneEntry[], exchange: DatabaseChangesExchange): void {
    const open = this.#paging.get(database);
    const continues = open?.last.moreComing === true && exchange.sentToken === open.last.syncToken;
    const chain = continues
      ? { ...open, zones: [...open.zones, ...zones], last: exchange }
      : {
          ...(exchange.sentToken === undefined ? {} : { from: exchange.sentToken }),
          zones: [...zones],
          last: exchange,
        };
    if (exchange.moreComing) {
      this.#paging.set(database, chain);
      return;
    }
    this.#paging.delete(database);
    this.#libraryDeltas.set(database, {
      ...(chain.from === undefined ? {} : { from: chain.from }),
      to: exchange.syncToken,
      zones: chain.zones,
    });
  }

  async listAlbums(known?: KnownSharedAlbums): Promise<SharedAlbumList> {
    const listings = await Promise.all(
      (['private', 'shared'] as const).map((database) => this.#listDatabase(database, known)),
    );
    const tokens: Partial<Record<Database, readonly string[]>> = {};
    for (const [i, database] of (['private', 'shared'] as const).entries()) {
      const kept = listings[i]!.tokens ?? known?.tokens?.[database];
      if (kept !== undefined && kept.length > 0) tokens[database] = kept;
    }
    const albums: SharedAlbum[] = listings
      .flatMap((l) => l.zones)
      .map(({ zone, syncToken }) => ({
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
    return {
      available: true,
      albums,
      everyDatabaseAsked: listings.every((l) => l.asked),
      tokens: tokens as CollectionTokens,
      ...(listings.some((l) => l.deferred) ? { deferred: true } : {}),
    };
  }

  async #listDatabase(database: Database, known: KnownSharedAlbums | undefined): Promise<DatabaseListing> {
    const knownHere = (known?.albums ?? []).filter((a) => a.collection?.database === database);
    const stored = known?.tokens?.[database] ?? [];
    const library = this.#libraryDeltas.get(database);
    if (known === undefined || known.askEveryDatabase) {
      const own = await this.#ask(database, undefined);
      // The library's tokens of this run predate this listing: a delta from them covers it too.
      return {
        zones: applyDelta(knownHere, database, own),
        asked: true,
        tokens: newest([library?.from, library?.to, own.to]),
      };
    }
    if (library !== undefined && (library.from === undefined || stored.includes(library.from))) {
      // The library's answer of this run covers every change since the last listing: no request.
      return {
        zones: applyDelta(knownHere, database, library),
        asked: false,
        // Unchanged database: the library keeps sending the token it holds; keep ours as they are.
        ...(library.zones.length === 0 ? {} : { tokens: newest([library.from, library.to]) }),
      };
    }
    const seen = this.#observed.get(database);
    if (knownHere.length === 0 && !seen?.collectionZones && (seen !== undefined || database === 'shared')) {
      // Nothing known here and the library's own answer (this run) showed no album zone: no request.
      return { zones: SKIPPED, asked: false };
    }
    if (known.requestless) {
      const zones = knownHere.flatMap((a) =>
        a.collection === undefined ? [] : [{ zone: a.collection, syncToken: a.ctag }],
      );
      return { zones, asked: false, deferred: true };
    }
    const own = await this.#ask(database, stored.at(-1));
    return {
      zones: applyDelta(knownHere, database, own),
      asked: true,
      // An unchanged database: the token asked from still covers everything; keep the stored ones.
      ...(own.zones.length === 0 && own.from !== undefined
        ? {}
        : { tokens: newest([library?.from, library?.to, own.from, own.to]) }),
    };
  }

  /** Our own `changes/database` (every page), from `from` or, without it, listing every zone. */
  async #ask(database: Database, from: string | undefined): Promise<DatabaseDelta> {
    this.#listing = true;
    try {
      if (from !== undefined) {
        try {
          return await this.#pages(database, from);
        } catch (error) {
          // A token CloudKit no longer honours: list every zone instead.
          if (!(error instanceof StaleSyncTokenError)) throw error;
        }
      }
      return await this.#pages(database, undefined);
    } finally {
      this.#listing = false;
    }
  }

  async #pages(database: Database, from: string | undefined): Promise<DatabaseDelta> {
    let result = await this.#client.changesDatabase(database, from);
    const zones = [...result.zones];
    while (result.moreComing) {
      result = await this.#client.changesDatabase(database, result.syncToken);
      zones.push(...result.zones);
    }
    return { ...(from === undefined ? {} : { from }), to: result.syncToken, zones };
  }
}

/**
 * The album zones of `database` after `delta`: from its answer alone when it listed every zone
 * (asked without a token), else the known albums with the zones it reports changed (new token),
 * gone (`deleted`) or new. A zone answered as a failed entry says nothing of its album: a known
 * one stays as listed last, in either case.
 */
function applyDelta(
  known: readonly SharedAlbum[],
  database: Database,
  delta: DatabaseDelta,
): ListedCollection[] {
  const reported = collectionZonesOf(database, delta.zones, undefined);
  const gone = new Set(delta.zones.filter((z) => z.deleted === true).map((z) => z.zoneID.zoneName));
  const failed = new Set(delta.zones.filter(isErrorEntry).map((z) => z.zoneID.zoneName));
  const stays = (zoneName: string) => (delta.from === undefined ? failed.has(zoneName) : !gone.has(zoneName));
  const out = new Map<string, ListedCollection>();
  for (const album of known) {
    if (album.collection === undefined || !stays(album.collection.zoneName)) continue;
    out.set(album.collection.zoneName, { zone: album.collection, syncToken: album.ctag });
  }
  for (const listed of reported) out.set(listed.zone.zoneName, listed);
  return [...out.values()];
}

/** The last `MAX_TOKENS` distinct tokens, oldest first. */
function newest(tokens: readonly (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const t of tokens) if (t !== undefined && t !== '' && !out.includes(t)) out.push(t);
  return out.slice(-MAX_TOKENS);
}
