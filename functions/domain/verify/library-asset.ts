/**
 * What `verify` keeps of each asset a fresh enumeration of iCloud returned: its identity, where
 * it was listed, and the versions the version policy says must be archived. A few hundred bytes
 * per photo, so a whole library fits in memory without the download URLs and record fields.
 */
import type { Asset, VersionKind } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { awaitingUrl, objectIdOf, planVersions } from '../plan/plan-versions.ts';
import type { VersionPolicy } from '../plan/version-policy.ts';

/** The index an asset was listed by (the enumeration scopes of `AssetSource`). */
export type LibraryScope = 'library' | 'hidden' | 'recentlyDeleted';

/** One version the policy selects for an asset. */
export interface ExpectedVersion {
  readonly kind: VersionKind;
  /** Apple's checksum of the resource: the manifest records it per archived version. */
  readonly fileChecksum: string;
  readonly size: number;
  /** `<masterRecordName>/<kind>/<fileChecksum>` (`objectIdOf`): the identity the archive claims. */
  readonly objectId: string;
}

export interface LibraryAsset {
  readonly zone: ZoneRef;
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly fileName: string;
  readonly scope: LibraryScope;
  readonly expected: readonly ExpectedVersion[];
  /**
   * Versions the policy selects that iCloud lists without a download URL: archived only when the
   * archive holds that file already (`objectId`, when Apple sent a checksum), missing otherwise.
   */
  readonly withoutUrl?: readonly { readonly kind: VersionKind; readonly objectId?: string }[];
}

/** The compact form of `asset`, listed under `scope`, with the versions `policy` selects. */
export function libraryAssetOf(asset: Asset, scope: LibraryScope, policy: VersionPolicy): LibraryAsset {
  return {
    zone: asset.zone,
    assetRecordName: asset.assetRecordName,
    masterRecordName: asset.masterRecordName,
    fileName: asset.fileName,
    scope,
    expected: planVersions(asset, policy).map((planned) => ({
      kind: planned.kind,
      fileChecksum: planned.version.fileChecksum,
      size: planned.version.size,
      objectId: planned.objectId,
    })),
    ...withoutUrlOf(asset, policy),
  };
}

function withoutUrlOf(asset: Asset, policy: VersionPolicy): Pick<LibraryAsset, 'withoutUrl'> {
  const kinds = awaitingUrl(asset, policy);
  if (kinds.length === 0) return {};
  const withoutUrl = kinds.map((kind) => {
    const checksum = asset.unavailableVersions?.find((u) => u.kind === kind)?.fileChecksum;
    return checksum === undefined
      ? { kind }
      : { kind, objectId: objectIdOf(asset.masterRecordName, kind, checksum) };
  });
  return { withoutUrl };
}
