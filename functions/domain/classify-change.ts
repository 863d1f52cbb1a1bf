/**
 * What one item of a zone delta means for the archive, given what the archive knew before
 * (docs/protocol/records.md). Pure: the caller looks up the previous state and acts on the answer.
 *
 * Lifecycle first, in the order of docs/protocol/records.md#classifying-a-change (hard delete, soft delete, hidden, created or
 * modified); "restored" and "unhidden" exist only relative to the previous state.
 */
import type { Asset, AssetOnlyChange, ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';

/** What the archive remembered about an asset (a projection of its manifest entry). */
export interface PreviousAssetState {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly isFavorite: boolean;
  readonly isHidden: boolean;
  readonly isDeleted: boolean;
  /** Apple already hard-deleted it. */
  readonly isPurged?: boolean;
  /** Album record names it belongs to. */
  readonly albums: readonly string[];
  /** `fileChecksum` of the edited rendition last seen; absent when it had none. */
  readonly adjustedFileChecksum?: string;
}

export type ChangeKind =
  | 'purged'
  | 'trashed'
  /** Left the Shared Library for someone's personal library (SharedSync: isDeleted, trashReason 0/absent). */
  | 'movedToPersonalLibrary'
  /** Left the personal library for the Shared Library. */
  | 'movedToSharedLibrary'
  | 'restored'
  | 'hidden'
  | 'unhidden'
  | 'new'
  /** A new or different adjusted rendition. */
  | 'edited'
  /** The adjusted rendition is gone (edit reverted). */
  | 'editReverted'
  /** Favourite flag changed. */
  | 'metadataChanged'
  | 'albumAdded'
  | 'albumRemoved'
  /** An album was created, renamed, moved or deleted. */
  | 'albumChanged'
  | 'unchanged';

/** Most severe first; `kind` of a classification is the first of its kinds in this order. */
const SEVERITY: readonly ChangeKind[] = [
  'purged',
  'trashed',
  'movedToPersonalLibrary',
  'movedToSharedLibrary',
  'restored',
  'hidden',
  'unhidden',
  'new',
  'edited',
  'editReverted',
  'metadataChanged',
  'albumAdded',
  'albumRemoved',
  'albumChanged',
  'unchanged',
];

export interface ChangeClassification {
  /** The most severe kind that applies. */
  readonly kind: ChangeKind;
  /** Every kind that applies, most severe first (`['restored', 'metadataChanged']`). Never empty. */
  readonly kinds: readonly ChangeKind[];
}

function classification(kinds: readonly ChangeKind[]): ChangeClassification {
  const sorted = SEVERITY.filter((k) => kinds.includes(k));
  const first = sorted[0];
  return first === undefined ? { kind: 'unchanged', kinds: ['unchanged'] } : { kind: first, kinds: sorted };
}

/** One record's state in the order kei keeps for split master/asset halves (docs/protocol/records.md#classifying-a-change). */
export type RecordState = 'hardDeleted' | 'softDeleted' | 'hidden' | 'live';

const STATE_SEVERITY: readonly RecordState[] = ['hardDeleted', 'softDeleted', 'hidden', 'live'];

/**
 * kei's rule for a photo whose master and asset arrived with different states (e.g. on different
 * pages): the more severe wins — hard delete over soft delete over hidden over live.
 */
export function mostSevereState(a: RecordState, b: RecordState): RecordState {
  return STATE_SEVERITY.indexOf(a) <= STATE_SEVERITY.indexOf(b) ? a : b;
}

/** True for an iCloud Shared Photo Library zone. */
export function isSharedLibraryZone(zone: ZoneRef): boolean {
  return zone.zoneName.startsWith('SharedSync-');
}

type AssetLike = Asset | AssetOnlyChange;

function adjustedChecksum(change: AssetLike): string | undefined {
  return change.versions.find((v) => v.kind === 'adjusted')?.fileChecksum;
}

function deletionKind(change: AssetLike): ChangeKind {
  if (isSharedLibraryZone(change.zone)) {
    // docs/protocol/records.md#shared-library: trashReason 1 = deleted; 0 or absent (with isDeleted) = moved to a personal library.
    return change.trashReason === 1 ? 'trashed' : 'movedToPersonalLibrary';
  }
  // A personal-library asset that Apple marks expunged as it is trashed was moved into the
  // Shared Library (the mirror of the recorded move out of it, docs/protocol/records.md#shared-library); a plain delete keeps isExpunged 0.
  return change.isExpunged ? 'movedToSharedLibrary' : 'trashed';
}

function classifyAsset(
  change: AssetLike,
  previous: PreviousAssetState | undefined,
  isPair: boolean,
): ChangeClassification {
  const kinds: ChangeKind[] = [];
  const known = previous !== undefined && !previous.isPurged;
  const sameZone =
    known &&
    previous.zone.zoneName === change.zone.zoneName &&
    previous.zone.database === change.zone.database;

  if (!known) {
    // A lone asset we never saw cannot be "new" (its master is unknown); it is still worth recording.
    if (isPair) kinds.push('new');
  } else if (!sameZone) {
    // Same master, other zone: the photo crossed between the personal and the Shared Library.
    if (!change.isDeleted)
      kinds.push(isSharedLibraryZone(change.zone) ? 'movedToSharedLibrary' : 'movedToPersonalLibrary');
  }

  if (change.isDeleted) {
    if (!(sameZone && previous?.isDeleted)) kinds.push(deletionKind(change));
  } else if (sameZone && previous?.isDeleted) {
    kinds.push('restored');
  }

  if (change.isHidden && !(sameZone && previous?.isHidden)) kinds.push('hidden');
  if (!change.isHidden && sameZone && previous?.isHidden) kinds.push('unhidden');

  if (sameZone && previous) {
    const adjusted = adjustedChecksum(change);
    if (adjusted !== undefined && adjusted !== previous.adjustedFileChecksum) kinds.push('edited');
    if (
      adjusted === undefined &&
      previous.adjustedFileChecksum !== undefined &&
      change.adjustmentType === undefined
    ) {
      kinds.push('editReverted');
    }
    if (change.isFavorite !== previous.isFavorite) kinds.push('metadataChanged');
  }
  return classification(kinds);
}

/**
 * Classifies one delta item.
 *
 * `previous` is the archive's state of the same asset: look it up by asset record name in the
 * change's zone; for a photo not known there, by master record name in any zone (the master name is
 * the cross-zone identity, docs/protocol/records.md#cross-zone-identity), which is how moves between the personal and the Shared
 * Library are recognised. For a tombstone of a master, pass the state of an asset of that master.
 */
export function classifyChange(
  change: ZoneChange,
  previous: PreviousAssetState | undefined,
): ChangeClassification {
  switch (change.type) {
    case 'asset':
      return classifyAsset(change.asset, previous, true);
    case 'assetOnly':
      return classifyAsset(change.change, previous, false);
    case 'tombstone':
      return classification(previous !== undefined && !previous.isPurged ? ['purged'] : []);
    case 'albumMembership': {
      const member = previous?.albums.includes(change.albumRecordName) ?? false;
      if (change.present && !member) return classification(['albumAdded']);
      if (!change.present && member) return classification(['albumRemoved']);
      return classification([]);
    }
    case 'album':
      return classification(['albumChanged']);
  }
}
