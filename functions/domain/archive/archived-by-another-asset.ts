/**
 * Where another asset of the same master archived this very object. Assets of one master (an iOS
 * Duplicate, the Shared Library copy of a photo: docs/protocol/records.md#cross-zone-identity)
 * share its objects, but an asset's candidate keys count only its own entry's edits: the
 * Duplicate of a twice-edited photo asks for the first edit's keys for an edit archived under the
 * second's, and would store it again under a free one. Asked only when a candidate is refused to
 * another object of this master and kind (another asset archived such objects), never on the
 * common path: then one master-user Query and one batched manifest read.
 */
import { objectIdOf, type PlannedVersion } from '../plan/plan-versions.ts';
import { isSharedAlbumUser } from '../shared-albums/library-copy.ts';
import type { ArchiveDeps } from './archive-deps.ts';

/** True when `owner`, the owner of a refused key, is another object of `planned`'s master and kind. */
export function ownedByAnotherOfKind(
  owner: string,
  masterRecordName: string,
  planned: PlannedVersion,
): boolean {
  return owner !== planned.objectId && owner.startsWith(`${masterRecordName}/${planned.kind}/`);
}

/** The key another asset of `masterRecordName` archived `planned`'s object under, if one did. */
export async function keyArchivedByAnotherAsset(
  deps: ArchiveDeps,
  masterRecordName: string,
  planned: PlannedVersion,
): Promise<string | undefined> {
  const users = (await deps.state.masterUsers(masterRecordName)).filter((user) => !isSharedAlbumUser(user));
  if (users.length === 0) return undefined;
  for (const entry of (await deps.state.getEntries(users)).values()) {
    if (entry.status === 'purged') continue;
    const found = entry.versions.find(
      (v) => objectIdOf(entry.masterRecordName, v.kind, v.fileChecksum) === planned.objectId,
    );
    if (found !== undefined) return found.key;
  }
  return undefined;
}
