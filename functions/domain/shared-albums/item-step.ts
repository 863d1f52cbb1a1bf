/**
 * What a Shared Album item needs, judged from its record and what the archive stored for it: the
 * worker's first step (archive-shared-album.ts) and the dry run's plan read the same rule.
 */
import type { SharedItem } from './model.ts';
import type { StoredSharedItem } from './state.ts';

/**
 * `none` when its file is stored and its record unchanged; `update` when only likes, comments or
 * its caption changed; otherwise `store` (new, changed, back in the album, or of the wrong size: a
 * file whose size is not the one Apple states is not the file, an error page stored before they
 * were refused, docs/reliability.md).
 */
export function sharedItemStep(
  item: SharedItem,
  before: StoredSharedItem | undefined,
): 'none' | 'update' | 'store' {
  const stated = item.rendition.size;
  const sameFile =
    before !== undefined &&
    before.fileChecksum === item.rendition.fileChecksum &&
    (stated === 0 || before.size === stated);
  const inPlace = sameFile && before.removedAt === undefined && before.objectDeletedAt === undefined;
  if (!inPlace) return 'store';
  return before.changeTag === item.changeTag ? 'none' : 'update';
}
