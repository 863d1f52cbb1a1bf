/**
 * The simulated library's vocabulary: zones, the plan of each asset slot, its file content (what the
 * CPLMaster describes) and its mutable state (what the CPLAsset describes).
 *
 * A *slot* is one CPLAsset. Slots 0..N-1 are generated from the seed; later slots come from
 * `/mutate` `add`, `duplicate`, `share`, `move-to-personal`. A slot's *master slot* names its CPLMaster:
 * itself, or an earlier slot for duplicates and cross-zone twins (same CPLMaster recordName).
 */

/** 0: the owner's PrimarySync, 1: the Shared Library zone, 2: the member's PrimarySync. */
export type ZoneKey = 0 | 1 | 2;
export const OWNER_PRIMARY: ZoneKey = 0;
export const SHARED_ZONE: ZoneKey = 1;
export const MEMBER_PRIMARY: ZoneKey = 2;
export const ZONE_KEYS: readonly ZoneKey[] = [0, 1, 2];

export type Person = 'owner' | 'member';

export type AssetKind =
  | 'jpeg'
  | 'heic'
  | 'png'
  | 'live'
  | 'video'
  | 'raw'
  | 'screenshot'
  | 'slomo'
  | 'timelapse'
  | 'panorama'
  | 'burst';

export const ASSET_KINDS = [
  'jpeg',
  'heic',
  'png',
  'live',
  'video',
  'raw',
  'screenshot',
  'slomo',
  'timelapse',
  'panorama',
  'burst',
] as const satisfies readonly AssetKind[];

/** How `filenameEnc` is served (docs/protocol/records.md#filenameenc). */
export type FilenameEncoding = 'ENCRYPTED_BYTES' | 'STRING' | 'missing' | 'badBase64' | 'nonUtf8' | 'empty';

/** Overrides of the master's `itemType` (docs/protocol/records.md#item-type). */
export type ItemTypeOverride = 'missing' | 'noValue' | 'unknown';

/** CloudKit resource families (docs/protocol/records.md#resource-families). `AssetJPEGThumb` is the edit's thumbnail on the CPLAsset. */
export type Family =
  | 'Original'
  | 'OriginalAlt'
  | 'OriginalVidCompl'
  | 'JPEGMed'
  | 'JPEGThumb'
  | 'VidMed'
  | 'VidSmall'
  | 'JPEGFull'
  | 'VidFull'
  | 'AssetJPEGThumb';

/** One downloadable file. */
export interface Resource {
  readonly family: Family;
  readonly uti: string;
  readonly size: number;
  readonly width: number;
  readonly height: number;
  /** Edit generation for asset-side renders; 0 for master resources. */
  readonly generation: number;
  readonly classicQuickTime?: boolean;
  /** Served without `downloadURL` (S94 in docs/protocol/simulator-contract.md#records-and-library). */
  readonly noDownloadUrl?: boolean;
}

/** What a slot is, before any mutation. Pure function of (seed, slot) for generated slots. */
export interface SlotPlan {
  readonly kind: AssetKind;
  readonly zone: ZoneKey;
  readonly masterSlot: number;
  /** Shared Library zone: who added it. */
  readonly contributor?: Person;
  readonly fileName?: string;
  readonly filenameEncoding?: FilenameEncoding;
  readonly itemTypeOverride?: ItemTypeOverride;
  readonly noDownloadUrl?: Family;
  readonly edited?: boolean;
  readonly hidden?: boolean;
  readonly favorite?: boolean;
  /** Trashed this many days before the library's anchor time. */
  readonly trashedDaysAgo?: number;
  readonly trashReason?: 0 | 1;
  readonly trashedBy?: Person;
  readonly liveClassic?: boolean;
  readonly burstId?: string;
  readonly burstPick?: boolean;
  readonly sizeBytes?: number;
  readonly captureTime?: number;
  readonly timeZoneOffsetSeconds?: number;
  readonly addedTime?: number;
  /** Generated user album (index into the library's album list), if any. */
  readonly album?: number;
  /** The generated history holds an older, now purged record pair next to this slot. */
  readonly ghost?: boolean;
}

/** The file a CPLMaster describes. */
export interface MasterContent {
  readonly kind: AssetKind;
  readonly mediaType: 'photo' | 'video';
  readonly fileName: string;
  readonly filenameEncoding: FilenameEncoding;
  readonly itemType: string;
  readonly itemTypeOverride?: ItemTypeOverride;
  readonly captureTime: number;
  readonly timeZoneOffsetSeconds: number;
  readonly width: number;
  readonly height: number;
  readonly orientation: number;
  readonly durationMs: number;
  readonly resources: readonly Resource[];
  readonly burstId?: string;
  readonly burstPick?: boolean;
  readonly latitude: number;
  readonly longitude: number;
  readonly deviceId: string;
}

export interface EditState {
  readonly adjustmentType: string;
  readonly generation: number;
  readonly at: number;
}

/** A CPLAsset's mutable state. */
export interface AssetState {
  hidden: boolean;
  favorite: boolean;
  /** Time it went to Recently Deleted; undefined when not trashed. */
  trashedAt?: number;
  trashReason?: 0 | 1;
  trashedBy?: Person;
  expunged?: boolean;
  /** Restored from the trash at least once: `isDeleted` is served as `{"value": null}`. */
  restored: boolean;
  purged: boolean;
  edit?: EditState;
  /** An edit was reverted: adjustment fields are cleared (served absent). */
  editReverted: boolean;
  /** Added to a classic shared album. */
  sharedAlbumAt?: number;
  shareCount: number;
  modifiedAt: number;
  /** Who or what last changed it: a device hash, or `"2"` for a web edit. */
  modifiedDevice: string;
  modifiedBy: Person;
}

export interface AlbumState {
  readonly index: number;
  readonly recordName: string;
  name: string | undefined;
  /** 0 album, 3 folder. */
  readonly albumType: number;
  /** The folder it sits in (absent: top level); `move-album` changes it. */
  parentIndex?: number;
  /** Order among its siblings (the album list is sorted by it). */
  position: number;
  deleted: boolean;
  createdAt: number;
  modifiedAt: number;
  sortAscending: number;
  sortType: number;
}

export const SLOMO_ADJUSTMENT = 'com.apple.video.slomo';
export const SCREENSHOT_ADJUSTMENT = 'ScreenshotServices';
export const PHOTO_ADJUSTMENT = 'com.apple.photo';

export const DAY_MS = 86_400_000;
export const TRASH_WINDOW_MS = 30 * DAY_MS;
