/**
 * Turns a zone change and its classification into the planner's `ClassifiedChange`s
 * (`functions/domain/plan/change-input.ts`): one per kind that asks the archive to act, the
 * creation first. Pure.
 */
import type { ChangeClassification, ChangeKind, PreviousAssetState } from './classify-change.ts';
import type { ZoneChange } from './model.ts';
import type { ClassifiedChange } from './plan/change-input.ts';

/** The order the planner should see the kinds of one change in: an entry exists before it changes. */
const PLAN_ORDER: readonly ChangeKind[] = [
  'new',
  'movedToSharedLibrary',
  'movedToPersonalLibrary',
  'restored',
  'edited',
  'editReverted',
  'metadataChanged',
  'hidden',
  'unhidden',
  'albumAdded',
  'albumRemoved',
  'trashed',
  'purged',
];

/**
 * The planner inputs for `change`, classified as `classification` against `previous` (the same
 * state given to `classifyChange`; a tombstone of an asset needs it to name its master).
 */
export function toClassifiedChanges(
  change: ZoneChange,
  classification: ChangeClassification,
  previous: PreviousAssetState | undefined,
): ClassifiedChange[] {
  const out: ClassifiedChange[] = [];
  const target =
    change.type === 'asset' ? change.asset : change.type === 'assetOnly' ? change.change : undefined;
  for (const kind of PLAN_ORDER) {
    if (!classification.kinds.includes(kind)) continue;
    if (change.type === 'tombstone' && kind === 'purged') {
      const asAsset = change.inferredType !== 'CPLMaster' && previous !== undefined;
      const masterRecordName =
        change.inferredType === 'CPLMaster' ? change.recordName : previous?.masterRecordName;
      if (masterRecordName === undefined) continue;
      out.push({
        kind: 'purged',
        zone: change.zone,
        masterRecordName,
        ...(asAsset ? { assetRecordName: change.recordName } : {}),
      });
      continue;
    }
    if (change.type === 'albumMembership' && (kind === 'albumAdded' || kind === 'albumRemoved')) {
      out.push({
        kind,
        zone: change.zone,
        assetRecordName: change.assetRecordName,
        albumRecordName: change.albumRecordName,
      });
      continue;
    }
    if (target === undefined) continue;
    switch (kind) {
      case 'new':
        if (change.type === 'asset') out.push({ kind: 'new', asset: change.asset });
        break;
      case 'movedToSharedLibrary':
        // The Shared Library side is a new entry of a known master; the personal side (trashed and
        // expunged in PrimarySync) only stops being personal: its objects stay, nothing to plan.
        if (change.type === 'asset' && !change.asset.isDeleted)
          out.push({ kind: 'movedToShared', asset: change.asset });
        break;
      case 'movedToPersonalLibrary':
        // Leaving the Shared Library is not a deletion; arriving in PrimarySync is a new entry there.
        if (target.isDeleted) out.push({ kind: 'movedFromShared', target });
        else if (change.type === 'asset') out.push({ kind: 'new', asset: change.asset });
        break;
      case 'editReverted':
        if (!classification.kinds.includes('edited')) out.push({ kind: 'edited', target });
        break;
      case 'edited':
        out.push({ kind: 'edited', target });
        break;
      case 'metadataChanged':
        out.push({ kind: 'metadata', target });
        break;
      case 'hidden':
      case 'unhidden':
      case 'trashed':
      case 'restored':
        out.push({ kind, target });
        break;
      default:
        break;
    }
  }
  return out;
}
