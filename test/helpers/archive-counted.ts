/**
 * Archives one asset as a work message does (process-work-message.ts): its stored and adopted
 * objects handed to a `MessageCounts`, committed once the archive is done, after its entry.
 */
import { type AssetArchiveResult, archiveAsset } from '#domain/archive/archive-asset.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { MessageCounts } from '#domain/archive/message-counts.ts';
import type { Asset } from '#domain/model/asset.ts';

export async function archiveCounted(deps: ArchiveDeps, asset: Asset): Promise<AssetArchiveResult> {
  const counts = new MessageCounts();
  const result = await archiveAsset(deps, asset, undefined, counts);
  await counts.commit(deps.state);
  return result;
}
