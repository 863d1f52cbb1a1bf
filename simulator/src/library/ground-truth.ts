/**
 * `GET /__sim/library`: what the library holds, from the simulator's side, so tests can compare an
 * archive against it. `sha256` is the digest of the exact bytes the CDN serves for that version.
 */
import type { LibraryCore } from './core.ts';
import { type Family, type MasterContent, MEMBER_PRIMARY, SHARED_ZONE, type ZoneKey } from './model.ts';
import { assetResources, type IdentifiedResource, masterResources } from './resources.ts';

/** Matches `VersionKind` in functions/domain/model.ts. */
export type GroundTruthVersionKind =
  | 'original'
  | 'alternative'
  | 'adjusted'
  | 'medium'
  | 'thumb'
  | 'live'
  | 'liveAdjusted'
  | 'liveMedium'
  | 'liveThumb';

export interface GroundTruthVersion {
  readonly kind: GroundTruthVersionKind;
  /** Apple's file name with the extension of this version's type (null when `filenameEnc` is unusable). */
  readonly fileName: string | null;
  readonly size: number;
  /** Omitted with `?sha256=false`, and in `/mutate` answers for files over 100 MB. */
  readonly sha256?: string;
  readonly uti: string;
  readonly fileChecksum: string;
  readonly resourceField: string;
  readonly width: number;
  readonly height: number;
  /** False when the record carries no `downloadURL` for it (S94 in docs/protocol/simulator-contract.md#records-and-library). */
  readonly downloadable: boolean;
}

export interface GroundTruthAsset {
  readonly zone: string;
  /** Whose zone: `owner` (PrimarySync and the Shared Library) or `member` (their PrimarySync). */
  readonly zoneOwner: 'owner' | 'member';
  /** Database the owner sees this zone in (`private`); the member sees the Shared Library in `shared`. */
  readonly database: 'private' | 'shared';
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly mediaType: 'photo' | 'video';
  readonly kind: string;
  readonly isHidden: boolean;
  readonly isDeleted: boolean;
  readonly isFavorite: boolean;
  readonly isExpunged: boolean;
  readonly dateExpunged?: number;
  readonly captureTime: number;
  readonly addedTime: number;
  readonly timeZoneOffsetSeconds: number;
  /** The name as generated (before encoding); `fileNameEncoding` says how `filenameEnc` serves it. */
  readonly fileName: string;
  readonly fileNameEncoding: string;
  readonly itemType: string | null;
  readonly adjustmentType?: string;
  readonly burstId?: string;
  readonly albums: readonly string[];
  readonly albumRecordNames: readonly string[];
  readonly contributors?: readonly string[];
  readonly trashReason?: number;
  readonly deletedBy?: string;
  readonly versions: readonly GroundTruthVersion[];
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  'public.jpeg': 'JPG',
  'public.heic': 'HEIC',
  'public.png': 'PNG',
  'com.apple.quicktime-movie': 'MOV',
  'public.mpeg-4': 'MP4',
};

function versionKind(family: Family, video: boolean): GroundTruthVersionKind | undefined {
  switch (family) {
    case 'Original':
      return 'original';
    case 'OriginalAlt':
      return 'alternative';
    case 'OriginalVidCompl':
      return 'live';
    case 'JPEGMed':
      return video ? undefined : 'medium';
    case 'JPEGThumb':
    case 'AssetJPEGThumb':
      return video ? undefined : 'thumb';
    case 'VidMed':
      return video ? 'medium' : 'liveMedium';
    case 'VidSmall':
      return video ? 'thumb' : 'liveThumb';
    case 'JPEGFull':
      return 'adjusted';
    case 'VidFull':
      return video ? 'adjusted' : 'liveAdjusted';
  }
}

function versionFileName(content: MasterContent, uti: string, family: Family): string | null {
  if (content.filenameEncoding !== 'ENCRYPTED_BYTES' && content.filenameEncoding !== 'STRING') return null;
  const original = content.resources.find((r) => r.family === 'Original');
  const ext = EXTENSIONS[uti];
  if (family === 'Original' || !ext || uti === original?.uti) return content.fileName;
  const dot = content.fileName.lastIndexOf('.');
  return `${dot > 0 ? content.fileName.slice(0, dot) : content.fileName}.${ext}`;
}

/** The versions of an asset, asset-side resources winning over master-side ones (docs/protocol/records.md#versions). */
export function versionsOf(
  core: LibraryCore,
  slot: number,
  content: MasterContent,
): { kind: GroundTruthVersionKind; resource: IdentifiedResource }[] {
  const video = content.mediaType === 'video';
  const byKind = new Map<GroundTruthVersionKind, IdentifiedResource>();
  for (const r of masterResources(core, core.state.masterOf(slot), content)) {
    const kind = versionKind(r.resource.family, video);
    if (kind) byKind.set(kind, r);
  }
  for (const r of assetResources(core, slot, content)) {
    const kind = versionKind(r.resource.family, video);
    if (kind) byKind.set(kind, r);
  }
  return [...byKind].map(([kind, resource]) => ({ kind, resource }));
}

export async function groundTruthAsset(
  core: LibraryCore,
  slot: number,
  digest: ((r: IdentifiedResource, content: MasterContent) => Promise<string | undefined>) | undefined,
): Promise<GroundTruthAsset> {
  const s = core.state;
  const zone = s.zoneOf(slot);
  const master = s.masterOf(slot);
  const content = s.content(master);
  const state = s.state(slot);
  const plan = s.plan(slot);
  const versions: GroundTruthVersion[] = [];
  for (const { kind, resource } of versionsOf(core, slot, content)) {
    const r = resource.resource;
    const sha256 = digest ? await digest(resource, content) : undefined;
    versions.push({
      kind,
      fileName: versionFileName(content, r.uti, r.family),
      size: r.size,
      ...(sha256 !== undefined ? { sha256 } : {}),
      uti: r.uti,
      fileChecksum: resource.fileChecksum,
      resourceField: `${resource.fieldPrefix}Res`,
      width: r.width,
      height: r.height,
      downloadable: r.noDownloadUrl !== true,
    });
  }
  const albums = s.albumsOf(slot).map((a) => s.albums[a]!);
  const zoneInfo = core.zone(zone);
  const trashed = state.trashedAt !== undefined && !state.purged;
  return {
    zone: zoneInfo.zoneName,
    zoneOwner: zone === MEMBER_PRIMARY ? 'member' : 'owner',
    database: 'private',
    assetRecordName: core.assetName(slot),
    masterRecordName: core.masterName(master),
    mediaType: content.mediaType,
    kind: content.kind,
    isHidden: state.hidden,
    isDeleted: trashed,
    isFavorite: state.favorite,
    isExpunged: state.expunged === true,
    ...(trashed ? { dateExpunged: (state.trashedAt ?? 0) + 30 * 86_400_000 } : {}),
    captureTime: content.captureTime,
    addedTime: s.addedTime(slot),
    timeZoneOffsetSeconds: content.timeZoneOffsetSeconds,
    fileName: content.fileName,
    fileNameEncoding: content.filenameEncoding,
    itemType:
      content.itemTypeOverride === 'missing' || content.itemTypeOverride === 'noValue'
        ? null
        : content.itemType,
    ...(state.edit ? { adjustmentType: state.edit.adjustmentType } : {}),
    ...(content.burstId ? { burstId: content.burstId } : {}),
    albums: albums.map((a) => a.name ?? ''),
    albumRecordNames: albums.map((a) => a.recordName),
    ...(zone === SHARED_ZONE
      ? {
          contributors: [core.person(plan.contributor ?? 'owner').userRecordName],
          trashReason: state.trashReason ?? 0,
          ...(state.trashedBy ? { deletedBy: core.person(state.trashedBy).userRecordName } : {}),
        }
      : {}),
    versions,
  };
}

export const ZONES_IN_TRUTH: readonly ZoneKey[] = [0, 1, 2];
