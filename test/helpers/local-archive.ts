/**
 * Reading a local archive back in tests: every object with its metadata, and the set of
 * SHA-256 digests it holds, to compare with the simulator's ground truth.
 */
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { isDerivedKey } from '#domain/catalog/derived-keys.ts';

export interface ArchivedObjectView {
  readonly key: string;
  readonly size: number;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Every archived file of the local archive under `dataDir` (servers started and stopped here);
 * the derived objects (catalog, album views, sidecars) only with `derived: true`. Shared Albums'
 * objects (`shared-albums/`, on by default against a simulator whose account has some) are left
 * out: tests compare this with the library's ground truth.
 */
export async function readLocalArchive(
  dataDir: string,
  options: { readonly derived?: boolean } = {},
): Promise<ArchivedObjectView[]> {
  const stack = await openLocalAwsStack({ dataDir });
  try {
    const objects: ArchivedObjectView[] = [];
    for await (const listed of stack.objects.list('')) {
      if (listed.key.startsWith('shared-albums/')) continue;
      if (isDerivedKey(listed.key) && !options.derived) continue;
      const head = await stack.objects.head(listed.key);
      if (head !== undefined) objects.push({ key: listed.key, size: head.size, metadata: head.metadata });
    }
    return objects;
  } finally {
    await stack.stop();
  }
}

interface TruthVersion {
  readonly kind: string;
  readonly size: number;
  readonly sha256?: string;
  readonly downloadable: boolean;
}

export interface TruthAsset {
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly mediaType: 'photo' | 'video';
  readonly isDeleted: boolean;
  readonly isHidden: boolean;
  readonly isFavorite: boolean;
  readonly adjustmentType?: string;
  readonly fileName: string;
  readonly versions: readonly TruthVersion[];
}

const PHOTO_KINDS = new Set(['original', 'alternative', 'live', 'adjusted', 'liveAdjusted']);
const VIDEO_KINDS = new Set(['original', 'adjusted']);

/**
 * The digests the default version policy archives for the library's assets, those in Recently
 * Deleted too (iCloud still serves them; after the purge only the archive has them): originals,
 * RAW/JPEG alternatives, Live Photo videos, edited renditions (not a screenshot's automatic JPEG).
 */
export function expectedDigests(assets: readonly TruthAsset[]): Set<string> {
  const digests = new Set<string>();
  for (const asset of assets) {
    const kinds = asset.mediaType === 'photo' ? PHOTO_KINDS : VIDEO_KINDS;
    for (const version of asset.versions) {
      if (!kinds.has(version.kind) || !version.downloadable) continue;
      if (version.kind === 'adjusted' && asset.adjustmentType === 'ScreenshotServices') continue;
      if (version.sha256 !== undefined) digests.add(version.sha256);
    }
  }
  return digests;
}
