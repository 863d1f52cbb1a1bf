/**
 * What the pipeline remembers about Shared Albums between runs: the albums last listed (with
 * the change tag whose items are archived) and, per album, each item's archived object and
 * its comments. Plain JSON, stored by `SharedAlbumStateStore`.
 */
import type { VersionKind } from '../model/asset.ts';
import type { ZoneRef } from '../model/zone.ts';
import type { SharedAlbum, SharedComment } from './model.ts';

/** The library photo whose archived original an item references instead of its own object. */
export interface LibraryReference {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  /** The item is recorded among this master's users, so the library's mirror keeps the object. */
  readonly masterRecordName: string;
  readonly kind: VersionKind;
}

export interface StoredSharedAlbum {
  readonly album: SharedAlbum;
  /** The ctag whose items are all archived (absent until the first pass over the album ends). */
  readonly archivedCtag?: string;
  /** The ctag last handed to the workers, and when: not handed again while that work is young. */
  readonly enqueuedCtag?: string;
  readonly enqueuedAt?: number;
  /** The album left the account's view (left, deleted by its owner, removed) at this time. */
  readonly goneAt?: number;
  /** Items archived for it (for `status` and the mirror safety stop). */
  readonly itemCount?: number;
  /** Items stored as Apple's reduced copy (all of them, on the legacy service). */
  readonly reducedCount?: number;
  /**
   * Objects its items stored that are still in the bucket, removed items' kept ones included (an
   * item referencing another album's object or your library's original adds none): the albums'
   * share of the mirror safety stop's total.
   */
  readonly objectCount?: number;
  /** Folder under `shared-albums/` (the album's safe name, unique among albums). */
  readonly folder?: string;
  /**
   * The last pass (at `lastTriedAt`, the `tries`-th retry) left items unstored: a record without
   * its file, a CDN 404. Detection hands the album out again, its ctag unmoved, on the library's
   * backoff for photos without a URL (detect/unreadable-records.ts `isDue`): the next three runs,
   * then 1, 2, 4, 8, 16 hours apart, then daily. A pass that stores every item clears it.
   */
  readonly retry?: { readonly tries: number; readonly lastTriedAt: number };
}

/**
 * Per database, the `changes/database` tokens from which a delta still covers every change since
 * the new-generation albums were last listed (docs/protocol/shared-albums.md#new-generation): the
 * library's own delta of a run, sent from one of them, lists the album zones that changed, so the
 * listing needs no request of its own.
 */
export type CollectionTokens = Readonly<Partial<Record<'private' | 'shared', readonly string[]>>>;

export interface SharedAlbumsState {
  /** By `albumguid`; albums that left the view stay, with `goneAt`. */
  readonly albums: Readonly<Record<string, StoredSharedAlbum>>;
  /** When the listing was last asked for (only kept when a cadence needs it). */
  readonly checkedAt?: number;
  /**
   * When new-generation albums were last looked for in every database, whatever the library's
   * changes said (a daily safety net: a newly joined album, or one a failed run missed).
   */
  readonly everyDatabaseAskedAt?: number;
  readonly collectionTokens?: CollectionTokens;
  /**
   * The kind checked alone on the last run where the legacy listing and a new-generation
   * `changes/database` would both have cost a request: the next such run checks the other, so
   * an idle run costs one request and each kind is checked every other run.
   */
  readonly checkedAlone?: 'legacy' | 'newGeneration';
  /**
   * The session listed no legacy Shared Albums service (one stored by a release from before them
   * lacks it), and Apple's account, asked at this time, did not list it either (or could not be
   * asked): not asked again for `SERVICE_LOOKUP_INTERVAL_MS`. Absent once the service is known.
   */
  readonly legacyServiceMissingAt?: number;
  readonly revision: number;
}

export interface StoredSharedItem {
  readonly assetGuid: string;
  readonly fileName: string;
  /** Where its bytes are: its own object, or the object of an identical item stored earlier. */
  readonly key: string;
  /** True when `key` was stored for this item; false when it references another object. */
  readonly ownsObject: boolean;
  /** Set when `key` is the archived original of a photo in your own library (same checksum). */
  readonly library?: LibraryReference;
  readonly caption?: string;
  readonly fileChecksum: string;
  readonly size: number;
  /**
   * SHA-256 and MD5 of the bytes at `key` (lower-case hex), as the put hashed them or the object
   * states them once verified (archive/verified-copy.ts). Absent on items recorded before they were
   * kept, and on a library reference whose original the manifest lists without them.
   */
  readonly sha256?: string;
  readonly md5?: string;
  /** Apple's rendition field the bytes came from (`resOriginalRes` is itself the reduced copy). */
  readonly rendition: string;
  readonly reduced: boolean;
  readonly width?: number;
  readonly height?: number;
  readonly changeTag: string;
  readonly contributorDsid?: string;
  readonly contributorName?: string;
  readonly addedDate?: number;
  readonly captureDate?: number;
  readonly likeCount: number;
  readonly comments: readonly SharedComment[];
  /** No longer in the album (removed by a member) at this time; the object stays unless mirrored. */
  readonly removedAt?: number;
  /** Its own object was deleted (mirror) at this time. */
  readonly objectDeletedAt?: number;
  readonly archivedAt: number;
}

/**
 * Objects the Shared Albums hold, from the album list (the archive counters count only the
 * library's). An album recorded before objects were counted contributes its items.
 */
export function sharedObjectCount(state: SharedAlbumsState | undefined): number {
  return Object.values(state?.albums ?? {}).reduce((n, a) => n + (a.objectCount ?? a.itemCount ?? 0), 0);
}

/** An album's counts, from its items: the ones it still shows, of those Apple's reduced copies, and its objects. */
export function sharedAlbumCounts(
  items: readonly StoredSharedItem[],
): Required<Pick<StoredSharedAlbum, 'itemCount' | 'reducedCount' | 'objectCount'>> {
  const live = items.filter((i) => i.removedAt === undefined);
  const stored = new Set(
    items.filter((i) => i.ownsObject && i.objectDeletedAt === undefined).map((i) => i.key),
  );
  return {
    itemCount: live.length,
    reducedCount: live.filter((i) => i.reduced).length,
    objectCount: stored.size,
  };
}
