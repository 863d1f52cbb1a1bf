/**
 * An `AssetSource` over an in-memory library, with the semantics of the CloudKit one that change
 * detection relies on: zone tokens are positions in the zone's change log, the database token
 * counts database-level changes, enumeration pages walk the library by rank, a refused token is a
 * `StaleSyncTokenError` (a zone's or a database's) and a zone that is gone or never existed a `ZoneNotFoundError`.
 * `calls` records every request. It runs the AssetSource contract suite
 * (`test/fakes/contracts/asset-source-contract.ts`) like the CloudKit adapter does.
 *
 * Not modelled: master/asset pairing (changes arrive paired, so cursors never carry halves) and
 * counts. Lookups answer from the current library (the reconciling enumeration confirms with them).
 */

import { stepWalk, walkNamed } from '#adapters/icloud/cloudkit/rank-walk.ts';
import { StaleSyncTokenError, ZoneNotFoundError } from '#domain/errors.ts';
import type { AlbumMember } from '#domain/model/album.ts';
import type { Album, Asset, ZoneChange } from '#domain/model/asset.ts';
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import type {
  AlbumListPage,
  AlbumMembersCursor,
  AlbumMembersPage,
  AssetCounts,
  AssetLookupKey,
  AssetSource,
  ChangedZones,
  EnumerationCursor,
  EnumerationPage,
  EnumerationScope,
  LookedUpAssets,
  ZoneChangesCursor,
  ZoneChangesPage,
} from '#ports/asset-source.ts';

/** Photo number `n` of a zone: asset `<zone>-A<n>`, master `<zone>-M<n>`. */
export function libraryPhoto(zone: ZoneRef, n: number, hidden = false): Asset {
  return {
    zone,
    assetRecordName: `${zone.zoneName}-A${n}`,
    masterRecordName: `${zone.zoneName}-M${n}`,
    assetChangeTag: 'a1',
    masterChangeTag: 'm1',
    fileName: `IMG_${n}.HEIC`,
    fileNameSource: 'filenameEnc',
    mediaType: 'photo',
    captureTime: 1_700_000_000_000 + n,
    isFavorite: false,
    isHidden: hidden,
    isDeleted: false,
    isExpunged: false,
    subtypes: [],
    versions: [
      {
        kind: 'original',
        resourceField: 'resOriginalRes',
        size: 10,
        fileChecksum: `c${n}`,
        uti: 'public.heic',
      },
    ],
  };
}

export interface FakeZone {
  readonly ref: ZoneRef;
  readonly library: Asset[];
  readonly hidden: Asset[];
  /** Pages of the change feed; the token after page i is `<zone>@<i+1>`. */
  readonly log: ZoneChange[][];
  gone: boolean;
  /** Tokens CloudKit no longer accepts. */
  readonly expired: Set<string>;
  /** Albums and folders (sentinels left out), each with its members in album order. */
  readonly albums: { album: Album; members: AlbumMember[] }[];
}

export class LibraryAssetSource implements AssetSource {
  readonly zones = new Map<string, FakeZone>();
  readonly calls: string[] = [];
  pageSize: number;
  /** Runs before every page is served (a clock ticking, the library changing meanwhile). */
  onPage: (() => void) | undefined;
  #databaseChanges: { at: number; zone: string }[] = [];
  /** Database tokens CloudKit no longer accepts (`changes/database` answers them as stale). */
  readonly expiredDatabaseTokens = new Set<string>();

  constructor(options: { pageSize?: number; onPage?: () => void } = {}) {
    this.pageSize = options.pageSize ?? 10;
    this.onPage = options.onPage;
  }

  addZone(ref: ZoneRef, photos: number, hidden = 0): FakeZone {
    const zone: FakeZone = {
      ref,
      library: Array.from({ length: photos }, (_, i) => libraryPhoto(ref, i)),
      hidden: Array.from({ length: hidden }, (_, i) => libraryPhoto(ref, photos + i, true)),
      log: [],
      gone: false,
      expired: new Set(),
      albums: [],
    };
    this.zones.set(ref.zoneName, zone);
    this.#databaseChanges.push({ at: this.#databaseChanges.length + 1, zone: ref.zoneName });
    return zone;
  }

  /**
   * Appends one page of changes to a zone's feed (an empty page is allowed) and applies them to
   * the library: a photo joins the index at rank 0 (as one dated before everything already
   * enumerated would), replacing its earlier state; a trashed one leaves it, a hidden one moves to
   * the hidden index, a tombstone removes it. `quiet`: the database feed does not mention it (a
   * later page of the same change).
   */
  change(zoneName: string, changes: ZoneChange[], options: { quiet?: boolean } = {}): void {
    const zone = this.zone(zoneName);
    zone.log.push(changes);
    for (const c of changes) {
      const name = c.type === 'asset' ? c.asset.assetRecordName : c.type === 'tombstone' ? c.recordName : '';
      if (name === '') continue;
      for (const list of [zone.library, zone.hidden]) {
        const at = list.findIndex((a) => a.assetRecordName === name);
        if (at >= 0) list.splice(at, 1);
      }
      if (c.type !== 'asset' || c.asset.isDeleted) continue;
      if (c.asset.isHidden) zone.hidden.push(c.asset);
      else zone.library.unshift(c.asset);
    }
    if (!options.quiet) this.#databaseChanges.push({ at: this.#databaseChanges.length + 1, zone: zoneName });
  }

  /** The zone named; throws a plain error for a name the test never added (a bug in the test). */
  zone(name: string): FakeZone {
    const zone = this.zones.get(name);
    if (zone === undefined) throw new Error(`no zone ${name}`);
    return zone;
  }

  /** The zone token after the whole log (what a caught-up feed answers). */
  currentToken(zoneName: string): string {
    return this.#token(this.zone(zoneName));
  }

  #token(zone: FakeZone, position = zone.log.length): string {
    return `${zone.ref.zoneName}@${position}`;
  }

  /** The zone a request names, as CloudKit would answer it: gone or unknown is `ZoneNotFoundError`. */
  #served(ref: ZoneRef): FakeZone {
    const zone = this.zones.get(ref.zoneName);
    if (zone === undefined || zone.gone || zone.ref.database !== ref.database) {
      throw new ZoneNotFoundError(ref.zoneName);
    }
    return zone;
  }

  async discoverZones() {
    return [...this.zones.values()].filter((z) => !z.gone).map((z) => z.ref);
  }

  async changedZones(database: DatabaseScope, syncToken?: string): Promise<ChangedZones> {
    this.calls.push(`changedZones:${database}`);
    if (syncToken !== undefined && this.expiredDatabaseTokens.has(syncToken)) {
      throw new StaleSyncTokenError({ database }, 'expired');
    }
    const since = syncToken === undefined ? 0 : Number(syncToken);
    const names = new Set(this.#databaseChanges.filter((c) => c.at > since).map((c) => c.zone));
    const zones = [...names].map((n) => this.zone(n)).filter((z) => z.ref.database === database);
    return {
      zones: zones.map((z) => z.ref),
      syncToken: String(this.#databaseChanges.length),
      moreComing: false,
    };
  }

  async zoneChangesPage(ref: ZoneRef, cursor?: ZoneChangesCursor): Promise<ZoneChangesPage> {
    this.calls.push(`zoneChangesPage:${ref.zoneName}`);
    this.onPage?.();
    const zone = this.#served(ref);
    const token = cursor?.syncToken || this.#token(zone, 0);
    if (zone.expired.has(token)) throw new StaleSyncTokenError(ref.zoneName, 'expired');
    const position = Number(token.split('@')[1]);
    if (!token.startsWith(`${ref.zoneName}@`) || !Number.isInteger(position) || position > zone.log.length) {
      throw new StaleSyncTokenError(ref.zoneName, 'Unknown sync continuation type');
    }
    const page = zone.log[position] ?? [];
    const next = Math.min(position + 1, zone.log.length);
    const syncToken = this.#token(zone, next);
    return {
      changes: page,
      cursor: { syncToken },
      syncToken,
      moreComing: next < zone.log.length,
      unpairedMasters: [],
      problems: [],
    };
  }

  async enumeratePage(
    ref: ZoneRef,
    cursor?: EnumerationCursor,
    scope?: EnumerationScope,
  ): Promise<EnumerationPage> {
    const which = cursor?.scope ?? scope ?? 'library';
    this.calls.push(`enumeratePage:${ref.zoneName}:${which}`);
    this.onPage?.();
    const zone = this.#served(ref);
    const all = which === 'hidden' ? zone.hidden : which === 'library' ? zone.library : [];
    const at = cursor ?? { scope: which, startRank: 0 };
    const slice = all.slice(at.startRank, at.startRank + this.pageSize);
    const syncToken = cursor?.syncToken ?? this.#token(zone);
    // Paged as the CloudKit source pages: an overlap, stepping back when it is not found.
    const names = slice.map((a) => a.assetRecordName);
    const seen = new Set(at.overlap ?? []);
    const fresh = slice.filter((a) => !seen.has(a.assetRecordName));
    const step = stepWalk(
      at,
      { ranks: names.length, present: names, fresh: fresh.length, read: names },
      this.pageSize,
    );
    if (step.kind === 'retreat') {
      return { changes: [], cursor: { scope: which, syncToken, ...step.next }, done: false, problems: [] };
    }
    return {
      changes: fresh.map((asset): ZoneChange => ({ type: 'asset', asset })),
      cursor: { scope: which, syncToken, ...step.next },
      done: at.startRank + this.pageSize >= all.length,
      problems: [],
    };
  }

  /**
   * The named photos as they are now, wherever they are (library or hidden); a name the zone no
   * longer holds comes back as CloudKit answers a purged record: an error entry, `NOT_FOUND`.
   */
  async lookupAssets(ref: ZoneRef, keys: readonly AssetLookupKey[]): Promise<LookedUpAssets> {
    this.calls.push(`lookupAssets:${ref.zoneName}:${keys.length}`);
    const zone = this.#served(ref);
    const held = new Map([...zone.library, ...zone.hidden].map((a) => [a.assetRecordName, a]));
    const assets: Asset[] = [];
    const notFound: string[] = [];
    for (const { assetRecordName } of keys) {
      const asset = held.get(assetRecordName);
      if (asset === undefined) notFound.push(assetRecordName);
      else assets.push(asset);
    }
    const unavailable = notFound.map((name) => ({
      assetRecordName: name,
      reason: 'NOT_FOUND (Record not found)',
    }));
    return { assets, missing: [], unavailable, notFound };
  }

  async countAssets(): Promise<AssetCounts> {
    throw new Error('not used by detection');
  }

  /** The live albums directly in `parentRecordName` (the top level without it), `pageSize` a page. */
  async listAlbums(
    ref: ZoneRef,
    parentRecordName?: string,
    continuationMarker?: string,
  ): Promise<AlbumListPage> {
    this.calls.push(`listAlbums:${ref.zoneName}`);
    const zone = this.#served(ref);
    const all = zone.albums
      .map((a) => a.album)
      .filter((a) => !a.isDeleted && a.parentId === parentRecordName);
    const start = Number(continuationMarker ?? 0);
    const end = start + this.pageSize;
    return {
      albums: all.slice(start, end),
      ...(end < all.length ? { continuationMarker: String(end) } : {}),
      problems: [],
    };
  }

  async albumMembersPage(
    ref: ZoneRef,
    albumRecordName: string,
    cursor: AlbumMembersCursor = { startRank: 0 },
  ): Promise<AlbumMembersPage> {
    this.calls.push(`albumMembersPage:${ref.zoneName}`);
    const zone = this.#served(ref);
    const members = zone.albums.find((a) => a.album.recordName === albumRecordName)?.members ?? [];
    const end = cursor.startRank + this.pageSize;
    // Paged as the CloudKit source pages: an overlap, stepping back when it is not found.
    const page = members.slice(cursor.startRank, end);
    return { ...walkNamed(cursor, page, end < members.length, this.pageSize), problems: [] };
  }
}
