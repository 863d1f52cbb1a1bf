/**
 * The planner's inputs: a classified change, and what the manifest knows about the master it
 * touches. `functions/domain/classify-change.ts` (another part of the pipeline) did not exist
 * when the planner was written, so the union the planner needs is defined here; the
 * classifier produces it (or maps its own type onto it).
 */
import type { Asset, AssetOnlyChange, MediaType, VersionKind, ZoneRef } from '#domain/model.ts';

/** The library entry a change is about: a full record pair, or the asset record alone. */
export type ChangeTarget = Asset | AssetOnlyChange;

interface EntryRef {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
}

export type ClassifiedChange =
  /** A photo or video not archived before (or seen for the first time in this zone). */
  | { readonly kind: 'new'; readonly asset: Asset }
  /** Favourite or another flag changed; nothing to download. */
  | { readonly kind: 'metadata'; readonly target: ChangeTarget }
  /** The asset now carries a different edited rendition (or lost its edit: a revert). */
  | { readonly kind: 'edited'; readonly target: ChangeTarget }
  | { readonly kind: 'hidden'; readonly target: ChangeTarget }
  | { readonly kind: 'unhidden'; readonly target: ChangeTarget }
  /** Moved to Recently Deleted: restorable for 30 days. */
  | { readonly kind: 'trashed'; readonly target: ChangeTarget }
  | { readonly kind: 'restored'; readonly target: ChangeTarget }
  /**
   * Gone for good: a tombstone. An asset tombstone names the entry; a master tombstone
   * (`assetRecordName` absent) removes every entry of that master in `zone`.
   */
  | {
      readonly kind: 'purged';
      readonly zone: ZoneRef;
      readonly masterRecordName: string;
      readonly assetRecordName?: string;
    }
  | ({ readonly kind: 'albumAdded' | 'albumRemoved'; readonly albumRecordName: string } & EntryRef)
  /** Your photo now also in the Shared Library: a new entry in a SharedSync zone, same master. */
  | { readonly kind: 'movedToShared'; readonly asset: Asset }
  /** Left the Shared Library for someone's personal library (`trashReason` 0): not a deletion. */
  | { readonly kind: 'movedFromShared'; readonly target: ChangeTarget };

/** Where a library entry stands in iCloud, as the manifest records it. */
export type EntryState = 'active' | 'trashed' | 'movedOut' | 'purged';

/** One object in the archive, as the manifest records it. */
export interface ArchivedObject {
  readonly objectId: string;
  readonly key: string;
  readonly kind: VersionKind;
  readonly size: number;
}

/** One library entry (a CPLAsset in one zone) as the manifest records it. */
export interface ManifestEntry {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly mediaType: MediaType;
  /** Apple's file name as imported, for edits that arrive without their master. */
  readonly fileName?: string;
  readonly state: EntryState;
  /** When the entry reached its state (ms), for `trashed`, `movedOut` and `purged`. */
  readonly stateSince?: number;
  readonly isFavorite: boolean;
  readonly isHidden: boolean;
  readonly albumRecordNames: readonly string[];
  /** The objects this entry references: its master's objects and its own edits, old and new. */
  readonly objectIds: readonly string[];
}

/** Everything the manifest holds for one master, across zones: the planner's view of the state. */
export interface MasterState {
  readonly masterRecordName: string;
  readonly entries: readonly ManifestEntry[];
  readonly objects: readonly ArchivedObject[];
}

/** True when `target` carries the master's fields too (a full record pair). */
export function isFullAsset(target: ChangeTarget): target is Asset {
  return 'fileName' in target;
}

/** Whether two entry references name the same library entry. */
export function sameEntry(a: EntryRef, b: EntryRef): boolean {
  return a.assetRecordName === b.assetRecordName && a.zone.zoneName === b.zone.zoneName;
}
