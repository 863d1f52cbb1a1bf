/**
 * The photo library as the domain sees it: what the iCloud adapter maps CloudKit records to,
 * and what planning, archiving and the manifest speak. Plain data, no behaviour.
 *
 * Names follow Apple's spelling for CloudKit terms (`recordName`, `syncToken`, `zoneName`).
 */

import type { ZoneRef } from './zone.ts';

export type MediaType = 'photo' | 'video';

/**
 * Logical versions of an asset (icloudpd/kei vocabulary, docs/protocol/records.md#versions).
 * `live*` are the motion part of a Live Photo; `adjusted` is the edited rendition.
 *
 * Listed in precedence order, the one order every step follows: versions are planned, and their
 * keys and names claimed, in this order (the original first, so its key is claimed before its
 * siblings' and a later sibling yields to an earlier one).
 */
export const VERSION_KINDS = [
  'original',
  'alternative',
  'live',
  'adjusted',
  'liveAdjusted',
  'medium',
  'thumb',
  'liveMedium',
  'liveThumb',
] as const;

export type VersionKind = (typeof VERSION_KINDS)[number];

/** One downloadable resource of an asset. */
export interface AssetVersion {
  readonly kind: VersionKind;
  /** The CloudKit field it came from, e.g. `resOriginalRes`. */
  readonly resourceField: string;
  /** Byte size CloudKit reported; the download must match it exactly. */
  readonly size: number;
  /** Apple's opaque checksum of the file (not a hash we can verify; docs/protocol/records.md#assetid-token). */
  readonly fileChecksum: string;
  /** The resource's UTI (`res…FileType`), e.g. `public.heic`. */
  readonly uti: string;
  /** Signed CDN URL, valid about one hour. Absent when Apple sent none. */
  readonly downloadUrl?: string;
  readonly width?: number;
  readonly height?: number;
}

/** A resource CloudKit listed that cannot be downloaded as sent (docs/protocol/records.md#assetid-token: e.g. no `downloadURL`). */
export interface UnavailableVersion {
  readonly kind: VersionKind;
  readonly resourceField: string;
  /** The token parts that were missing or unreadable. */
  readonly missing: readonly ('downloadURL' | 'size' | 'fileChecksum')[];
  /** Apple's checksum when the token had one: tells whether the archive already holds this file. */
  readonly fileChecksum?: string;
}

/** Where a photo was taken (`locationEnc`, docs/protocol/records.md#location): degrees, metres. */
export interface AssetLocation {
  readonly latitude: number;
  readonly longitude: number;
  readonly altitude?: number;
}

/**
 * What a person sees and writes about an asset, beyond its bytes and flags: read from the
 * CPLAsset (and the original's pixel size) when iCloud sends it. Kept in the catalog, not in the
 * objects' metadata (docs/archive-layout.md#9-the-catalog).
 */
export interface AssetDescription {
  /** `captionEnc`: the title shown in Photos. */
  readonly title?: string;
  /** `extendedDescEnc`: the longer caption. */
  readonly caption?: string;
  /** `keywordsEnc`: keywords, in Apple's order. */
  readonly keywords?: readonly string[];
  readonly location?: AssetLocation;
  /** Pixel size of the original. */
  readonly width?: number;
  readonly height?: number;
  /** `duration`, milliseconds (videos; docs/protocol/records.md#cplasset). */
  readonly durationMs?: number;
  /** `timeZoneNameEnc`: the IANA zone of the capture, when Apple names it. */
  readonly timeZoneName?: string;
}

/** Special kinds of asset that change how it is planned or named. */
export type AssetSubtype = 'live' | 'screenshot' | 'slomo' | 'burst' | 'panorama' | 'timelapse' | 'raw+jpeg';

/** A photo or video: one CPLAsset joined with its CPLMaster. */
export interface Asset {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly assetChangeTag: string;
  readonly masterChangeTag: string;
  /** Decoded `filenameEnc` (NFC, unsanitised), or an id-based fallback when Apple's is unusable. */
  readonly fileName: string;
  readonly fileNameSource: 'filenameEnc' | 'fallback';
  readonly mediaType: MediaType;
  /** The master's `itemType` UTI, when present. */
  readonly itemType?: string;
  /** `assetDate`, ms since the epoch (UTC). */
  readonly captureTime: number;
  /** Seconds east of UTC at capture (`timeZoneOffset`), when known. */
  readonly timeZoneOffsetSeconds?: number;
  /** `addedDate`, ms since the epoch. */
  readonly addedTime?: number;
  readonly isFavorite: boolean;
  readonly isHidden: boolean;
  /** In Recently Deleted (soft delete). */
  readonly isDeleted: boolean;
  readonly isExpunged: boolean;
  readonly dateExpunged?: number;
  readonly adjustmentType?: string;
  readonly subtypes: readonly AssetSubtype[];
  readonly burstId?: string;
  /** Shared Library: who added it (user record names). */
  readonly contributors?: readonly string[];
  /** Shared Library: who removed it. */
  readonly deletedBy?: string;
  /** Shared Library: 1 = deleted from the shared library, 0/absent with isDeleted = moved to a personal library. */
  readonly trashReason?: number;
  /** Every resource CloudKit offered, the asset's fields taking precedence over the master's (docs/protocol/records.md#versions). */
  readonly versions: readonly AssetVersion[];
  /** Resources listed without what a download needs; kept so they can be reported, never downloaded. */
  readonly unavailableVersions?: readonly UnavailableVersion[];
  /** Title, caption, keywords, location, size and duration, when iCloud gives any. */
  readonly description?: AssetDescription;
}

/**
 * A CPLAsset whose CPLMaster was not in the same delta (restore, favourite, hide, edit:
 * Apple sends only the asset). Carries what the asset record itself says; the rest is in the manifest.
 */
export interface AssetOnlyChange {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly assetChangeTag: string;
  readonly captureTime?: number;
  readonly timeZoneOffsetSeconds?: number;
  readonly isFavorite: boolean;
  readonly isHidden: boolean;
  readonly isDeleted: boolean;
  readonly isExpunged: boolean;
  readonly adjustmentType?: string;
  readonly deletedBy?: string;
  readonly trashReason?: number;
  /** Asset-side resources only (edited renditions). */
  readonly versions: readonly AssetVersion[];
  readonly unavailableVersions?: readonly UnavailableVersion[];
  /** What the asset record says of title, caption, keywords, location and duration (no pixel size: that is the master's). */
  readonly description?: AssetDescription;
}

export interface Album {
  readonly zone: ZoneRef;
  readonly recordName: string;
  readonly name: string;
  readonly albumType: number;
  readonly parentId?: string;
  /** Place among its siblings (`position`), when sent. */
  readonly position?: number;
  readonly isDeleted: boolean;
}

/** The record type a tombstone most likely had, inferred from its name (docs/protocol/records.md#tombstones). */
export type TombstoneType = 'CPLMaster' | 'CPLAsset' | 'CPLContainerRelation' | 'unknown';

/** One item of a zone delta, after pairing masters with assets. */
export type ZoneChange =
  | { readonly type: 'asset'; readonly asset: Asset }
  | { readonly type: 'assetOnly'; readonly change: AssetOnlyChange }
  | {
      readonly type: 'tombstone';
      readonly zone: ZoneRef;
      readonly recordName: string;
      readonly inferredType: TombstoneType;
    }
  | {
      readonly type: 'albumMembership';
      readonly zone: ZoneRef;
      readonly assetRecordName: string;
      readonly albumRecordName: string;
      readonly present: boolean;
      /** The relation's `position` (album order), when the relation came whole (not a tombstone). */
      readonly position?: number;
    }
  | { readonly type: 'album'; readonly album: Album };
