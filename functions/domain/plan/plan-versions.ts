/**
 * Decides which of an asset's resources become archived objects, each with its role and the
 * stable identity its key is claimed for.
 */
import {
  type Asset,
  type AssetVersion,
  type MediaType,
  VERSION_KINDS,
  type VersionKind,
} from '#domain/model/asset.ts';
import type { VersionPolicy } from './version-policy.ts';

/**
 * What an archived object is to the person, which decides its file name:
 * - `primary`: the original (`IMG_0001.HEIC`);
 * - `pairedHalf`: the other half of a RAW+JPEG pair, named by its own extension (`IMG_0001.JPG`);
 * - `liveMotion`: a Live Photo's video beside its still (`IMG_0001_HEVC.MOV`);
 * - `edit`: the edited rendition (`IMG_0001-edited.JPG`);
 * - `editLiveMotion`: the edited Live Photo's video (`IMG_0001-edited.MOV`);
 * - `preview`: Apple's medium/thumb derivatives (`IMG_0001-medium.JPG`).
 */
export type VersionRole = 'primary' | 'pairedHalf' | 'liveMotion' | 'edit' | 'editLiveMotion' | 'preview';

export interface PlannedVersion {
  readonly kind: VersionKind;
  readonly role: VersionRole;
  readonly version: AssetVersion;
  /**
   * The archived object's identity: `<masterRecordName>/<kind>/<fileChecksum>`. The owner
   * when the pipeline claims a key, and the manifest's key for "already archived". Built from
   * the master, so an iOS Duplicate and the Shared Library copy of your own photo (same
   * master, docs/protocol/records.md#cross-zone-identity) resolve to the same object and the binary is stored once; built from
   * the file's checksum, so a new edit is a new object and never overwrites the previous one.
   */
  readonly objectId: string;
}

const ROLES: Readonly<Record<VersionKind, VersionRole>> = {
  original: 'primary',
  alternative: 'pairedHalf',
  live: 'liveMotion',
  adjusted: 'edit',
  liveAdjusted: 'editLiveMotion',
  medium: 'preview',
  thumb: 'preview',
  liveMedium: 'preview',
  liveThumb: 'preview',
};

/** Apple's automatic JPEG of a screenshot (docs/protocol/records.md#live-raw-edits): not the person's edit. */
export const SCREENSHOT_ADJUSTMENT = 'ScreenshotServices';

/** A version's kind and Apple checksum: what says two of them are the same file. */
type VersionIdentity = { readonly kind: VersionKind; readonly fileChecksum?: string | undefined };

/** True when `a` and `b` are the same resource: the same kind and Apple `fileChecksum`. */
export const sameVersion = (a: VersionIdentity, b: VersionIdentity): boolean =>
  a.kind === b.kind && a.fileChecksum === b.fileChecksum;

/** The manifest/claim identity of one resource of a master (see `PlannedVersion.objectId`). */
export function objectIdOf(masterRecordName: string, kind: VersionKind, fileChecksum: string): string {
  return `${masterRecordName}/${kind}/${fileChecksum}`;
}

/** What a kind is judged by: an asset-only change names no media type (its kinds already follow it). */
type KindJudged = Pick<Asset, 'adjustmentType'> & { readonly mediaType?: MediaType };

/** Whether `policy` keeps `kind` of `asset`. */
export function policyKeeps(asset: KindJudged, kind: VersionKind, policy: VersionPolicy): boolean {
  const isLivePart = kind.startsWith('live');
  // Motion parts belong to photos only; a video's resources are never "live".
  if (isLivePart && (asset.mediaType === 'video' || !policy.live)) return false;
  switch (kind) {
    case 'original':
    case 'live':
      return true;
    case 'alternative':
      return policy.alternative;
    case 'adjusted':
    case 'liveAdjusted':
      if (!policy.adjusted) return false;
      return asset.adjustmentType !== SCREENSHOT_ADJUSTMENT || policy.screenshotRender;
    case 'medium':
    case 'liveMedium':
      return policy.medium;
    case 'thumb':
    case 'liveThumb':
      return policy.thumb;
  }
}

/**
 * The kinds `policy` selects that CloudKit listed without what a download needs (a token without
 * `downloadURL`, docs/protocol/records.md#assetid-token) and that `held` (the archive's objects)
 * does not already hold: until Apple offers them the asset is not archived whole.
 */
export function awaitingUrl(
  asset: Pick<Asset, 'unavailableVersions'> & KindJudged,
  policy: VersionPolicy,
  held: readonly { readonly kind: VersionKind; readonly fileChecksum: string }[] = [],
): VersionKind[] {
  return (asset.unavailableVersions ?? [])
    .filter((u) => policyKeeps(asset, u.kind, policy) && !held.some((v) => sameVersion(v, u)))
    .map((u) => u.kind);
}

/**
 * The versions of `asset` that `planVersions` may select under `policy` (each kind is judged on
 * its own, so planning these alone plans the same objects): what a work item needs to carry, and
 * the only ones an asset-only change's new rendition can be.
 */
export function plannableVersions(
  asset: Pick<Asset, 'versions'> & KindJudged,
  policy: VersionPolicy,
): Asset['versions'] {
  return asset.versions.filter((version) => policyKeeps(asset, version.kind, policy));
}

/**
 * The objects to archive for `asset` under `policy`, in a stable order (original first).
 *
 * - The original is always planned when Apple offers one.
 * - Edits: the edited rendition is planned when the asset carries one (`resJPEGFullRes` /
 *   `resVidFullRes`), whatever `adjustmentType` says (recordings show renditions without it);
 *   slo-mo has no rendition (the effect is playback metadata), so only its original is kept.
 *   Screenshots' automatic JPEG follows `screenshotRender`.
 * - Bursts need nothing special: every burst frame is its own asset with its own name.
 * - Duplicates: two assets of one master plan the same master-side `objectId`s.
 * - A resource whose `fileChecksum` equals one already planned is the same file and is
 *   planned once (the first role wins).
 */
export function planVersions(asset: Asset, policy: VersionPolicy): PlannedVersion[] {
  const planned: PlannedVersion[] = [];
  const seenChecksums = new Set<string>();
  for (const kind of VERSION_KINDS) {
    const version = asset.versions.find((candidate) => candidate.kind === kind);
    if (version === undefined || !policyKeeps(asset, kind, policy)) continue;
    if (seenChecksums.has(version.fileChecksum)) continue;
    seenChecksums.add(version.fileChecksum);
    planned.push({
      kind,
      role: ROLES[kind],
      version,
      objectId: objectIdOf(asset.masterRecordName, kind, version.fileChecksum),
    });
  }
  return planned;
}
