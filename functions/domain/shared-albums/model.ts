/**
 * Shared Albums (the invite-based albums a person owns or joined) in the domain's words
 * (docs/protocol/shared-albums.md). Legacy albums live on Apple's `sharedstreams` web service,
 * which keeps only reduced copies: photos at most 2,048 px on the long edge, videos at most 720p.
 * Identity is `(albumguid, assetGuid)`; album names are not unique.
 */

/** The caller's relation to an album. */
export type SharingType = 'owned' | 'subscribed';

export interface SharedAlbum {
  /** Stable album id (upper-case UUID): the key of everything about the album. */
  readonly albumguid: string;
  readonly name: string;
  /** The album-level base URL, used verbatim (its host may be another partition). */
  readonly location: string;
  /** Apple's change tag of the album: opaque, compared for equality only. */
  readonly ctag: string;
  readonly ownerDsid: string;
  readonly sharingType: SharingType;
  /** ms since the epoch, when Apple sent one. */
  readonly creationDate?: number;
  readonly isPublic: boolean;
  /**
   * Present for a new-generation album (docs/protocol/shared-albums.md#new-generation): the
   * CloudKit `SharedCollection-<UUID>` zone that holds it; `location` is then empty and `ctag` is
   * the zone's sync token. Absent for a legacy (`sharedstreams`) album.
   */
  readonly collection?: SharedCollectionZone;
  /** The owner's name, when the source knows it (new generation: from the share record). */
  readonly ownerName?: string;
}

/** Where a new-generation album lives: its zone, in the owner's private or a participant's shared database. */
export interface SharedCollectionZone {
  readonly database: 'private' | 'shared';
  readonly zoneName: string;
  readonly ownerRecordName: string;
}

/** True for the albums whose files are Apple's reduced copies (legacy); new-generation albums keep originals [inferred]. */
export const isReducedCopy = (album: SharedAlbum): boolean => album.collection === undefined;

/** The rendition label of new-generation items: the original as the zone serves it. */
export const COLLECTION_RENDITION_LABEL = 'original';

/** The file of one item: the best rendition Apple has (never the library original). */
export interface SharedRendition {
  /** Apple's field, e.g. `resOriginalRes`, `resJPEGMedRes`. */
  readonly field: string;
  /** Signed and short-lived: never log it. */
  readonly downloadUrl: string;
  readonly fileChecksum: string;
  /** Bytes (`resOriginalFileSize`; the `size` inside the resource is 0 on this service). */
  readonly size: number;
  readonly uti: string;
  readonly width?: number;
  readonly height?: number;
}

export interface SharedItem {
  /** The CPLAsset recordName: the item's asset GUID. */
  readonly assetGuid: string;
  readonly masterRecordName: string;
  /** The CPLAsset's recordChangeTag: changes when likes or comments change. */
  readonly changeTag: string;
  readonly fileName: string;
  readonly contributorDsid?: string;
  readonly contributorName?: string;
  /** When the item was posted to the album (ms). */
  readonly addedDate?: number;
  /** When the photo was taken (ms). */
  readonly captureDate?: number;
  readonly rendition: SharedRendition;
  /**
   * `resOriginalFingerprint`, when the record carries one (new generation). In the library a
   * master's record name, fingerprint and original `fileChecksum` are one value, so this names
   * the library master an item was copied from (docs/protocol/shared-albums.md#identity-and-de-duplication).
   */
  readonly fingerprint?: string;
  /** What the member wrote about the item, when the source carries it. */
  readonly caption?: string;
  readonly durationSeconds?: number;
  readonly likeCount: number;
}

/** A comment or a like on an item ("likes count as comments" on this service). */
export interface SharedComment {
  readonly kind: 'text' | 'like';
  readonly text: string;
  readonly author: string;
  /** ms, when Apple sent a parsable time. */
  readonly at?: number;
}

/** Long edge Apple keeps for photos in a shared album (panoramas up to 5,400 px wide). */
export const SHARED_PHOTO_MAX_EDGE = 2048;
/** Largest video height Apple keeps in a shared album. */
export const SHARED_VIDEO_MAX_HEIGHT = 720;

/** Every legacy shared-album file is Apple's reduced copy, never the original (docs/protocol/shared-albums.md#renditions). */
export const LEGACY_RENDITION_LABEL = 'shared-album-copy';
