/**
 * Which archived edit is the photo's current one (docs/archive-layout.md#5-changes): every
 * change lists the asset's renditions as iCloud has them now, so an archived edit it does not list
 * was replaced by a newer edit or reverted. Its object stays; the entry marks it `current: false`
 * for the album views, the catalog and the change classifier.
 */
import type { AssetOnlyChange, MediaType, VersionKind } from '#domain/model/asset.ts';
import type { ArchivedVersion } from '#domain/model/manifest.ts';
import { policyKeeps, sameVersion } from '../plan/plan-versions.ts';
import type { VersionPolicy } from '../plan/version-policy.ts';

const EDIT_KINDS: readonly VersionKind[] = ['adjusted', 'liveAdjusted'];

/**
 * `versions` with each edit marked as `change` lists it. Only the kinds the policy keeps are
 * judged: a work item carries no others (work-batches.ts), so their absence says nothing.
 */
export function markCurrentEdits(
  versions: readonly ArchivedVersion[],
  change: Pick<AssetOnlyChange, 'versions' | 'unavailableVersions' | 'adjustmentType'> & {
    readonly mediaType?: MediaType;
  },
  policy: VersionPolicy,
): ArchivedVersion[] {
  const listed = [...change.versions, ...(change.unavailableVersions ?? [])];
  return versions.map((version) => {
    if (!EDIT_KINDS.includes(version.kind) || !policyKeeps(change, version.kind, policy)) return version;
    const { current: _, ...marked } = version;
    return listed.some((l) => sameVersion(l, version)) ? marked : { ...marked, current: false };
  });
}

/** An edit an older item adds beside a newer state that does not list it (state-order.ts). */
export const outdatedEdit = (version: ArchivedVersion): ArchivedVersion =>
  EDIT_KINDS.includes(version.kind) ? { ...version, current: false } : version;
