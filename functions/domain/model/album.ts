/**
 * Albums as the archive keeps them: what iCloud says an album is (name, folder, kind, place
 * among its siblings), its members in album order, and where its view in the bucket stands.
 * Plain data, no behaviour. Apple's record is `Album` (model/asset.ts); this is what survives it.
 */
import type { ZoneRef } from './zone.ts';

/**
 * What Photos shows an album as (docs/protocol/records.md#cplalbum): `albumType` 0 an album,
 * 3 a folder of albums, 6 a smart album (rules, no relations). Any other value is kept as
 * `other` with its number, never guessed at.
 */
export type AlbumKind = 'album' | 'folder' | 'smart' | 'other';

export function albumKindOf(albumType: number): AlbumKind {
  if (albumType === 0) return 'album';
  if (albumType === 3) return 'folder';
  if (albumType === 6) return 'smart';
  return 'other';
}

/** Which album: its zone and CloudKit record name (a UUID; compared case-sensitively). */
export interface AlbumRef {
  readonly zone: ZoneRef;
  readonly recordName: string;
}

/** Where an album's view in the bucket stands (written by the album-view writer only). */
export interface AlbumViewState {
  /** Key of the view last written, without extension (`albums/<Folder>/<Album>`). */
  readonly path: string;
  /** SHA-256 (hex) of the view's content last written: an unchanged view is not written again. */
  readonly hash: string;
  /**
   * Set while the view still misses photos once its changes settled (a record given up, work in
   * the dead-letter queue): the writer then reads the album again only when due, on the backoff
   * of the photos awaiting a URL (detect/unreadable-records.ts). Detection's next mark drops it.
   */
  readonly recheck?: { readonly tries: number; readonly lastTriedAt: number };
}

/** One album or folder as the archive remembers it. */
export interface StoredAlbum extends AlbumRef {
  /** Decoded `albumNameEnc` as Apple sent it (unsanitised, not unique). */
  readonly name: string;
  readonly kind: AlbumKind;
  /** Apple's `albumType` as sent. */
  readonly albumType: number;
  /** The folder it sits in; absent at the top level. */
  readonly parentRecordName?: string;
  /** Apple's `position` among its siblings, when sent. */
  readonly position?: number;
  /** Deleted in iCloud (`isDeleted`): its view goes, the record stays so the removal is known. */
  readonly deleted: boolean;
  /**
   * Something the view depends on changed (name, folder, members, order) since the view was last
   * written. Detection sets it; the view writer clears it.
   */
  readonly viewStale: boolean;
  readonly view?: AlbumViewState;
  readonly updatedAt: number;
  readonly revision: number;
}

export type StoredAlbumInput = Omit<StoredAlbum, 'updatedAt' | 'revision'>;

/** One photo in an album: `position` is Apple's relation `position`, the album's own order. */
export interface AlbumMember {
  readonly assetRecordName: string;
  readonly position: number;
}

/** Album order: by position, ties by record name so the order is total and stable. */
export function compareMembers(a: AlbumMember, b: AlbumMember): number {
  if (a.position !== b.position) return a.position - b.position;
  return a.assetRecordName < b.assetRecordName ? -1 : a.assetRecordName > b.assetRecordName ? 1 : 0;
}
