/**
 * Which resources of a photo or video become which logical versions (docs/protocol/records.md#versions, docs/protocol/records.md#live-raw-edits).
 *
 * For every version the CPLAsset's resource wins over the CPLMaster's: an edit puts its rendering
 * on the asset while the master stays as imported. A token without `downloadURL`, `size` or
 * `fileChecksum` is not a version (nothing could be downloaded or checked) but is reported as
 * unavailable, and the asset is kept.
 */
import type { AssetVersion, MediaType, UnavailableVersion, VersionKind } from '#domain/model/asset.ts';
import { type RawFields, readAssetToken, readInteger, readString } from './field-values.ts';

type Family =
  | 'Original'
  | 'OriginalAlt'
  | 'JPEGFull'
  | 'JPEGMed'
  | 'JPEGThumb'
  | 'OriginalVidCompl'
  | 'VidFull'
  | 'VidMed'
  | 'VidSmall';

/** In the order versions are listed: original, alternative, adjusted, live (+ its renditions), medium, thumb. */
const PHOTO_VERSIONS: readonly (readonly [VersionKind, Family])[] = [
  ['original', 'Original'],
  ['alternative', 'OriginalAlt'],
  ['adjusted', 'JPEGFull'],
  ['live', 'OriginalVidCompl'],
  ['liveAdjusted', 'VidFull'],
  ['liveMedium', 'VidMed'],
  ['liveThumb', 'VidSmall'],
  ['medium', 'JPEGMed'],
  ['thumb', 'JPEGThumb'],
];

/** Videos: `JPEGMed`/`JPEGThumb` on a video master are poster frames, which no peer keeps. */
const VIDEO_VERSIONS: readonly (readonly [VersionKind, Family])[] = [
  ['original', 'Original'],
  ['adjusted', 'VidFull'],
  ['medium', 'VidMed'],
  ['thumb', 'VidSmall'],
];

/** The UTI to assume when a resource names none: the family's only recorded type, or unknown. */
function defaultUti(family: Family, itemType: string | undefined): string {
  if (family === 'Original') return itemType ?? 'public.data';
  if (family === 'JPEGFull' || family === 'JPEGMed' || family === 'JPEGThumb') return 'public.jpeg';
  if (family === 'OriginalVidCompl') return 'com.apple.quicktime-movie';
  return 'public.data';
}

type Candidate =
  | { readonly ok: true; readonly version: AssetVersion }
  | { readonly ok: false; readonly unavailable: UnavailableVersion }
  | undefined;

function candidate(
  fields: RawFields,
  kind: VersionKind,
  family: Family,
  itemType: string | undefined,
): Candidate {
  const resourceField = `res${family}Res`;
  const token = readAssetToken(fields, resourceField);
  if (token === undefined) return undefined;
  const { downloadURL, size, fileChecksum } = token;
  if (downloadURL === undefined || size === undefined || fileChecksum === undefined) {
    const missing: UnavailableVersion['missing'][number][] = [];
    if (downloadURL === undefined) missing.push('downloadURL');
    if (size === undefined) missing.push('size');
    if (fileChecksum === undefined) missing.push('fileChecksum');
    const known = fileChecksum === undefined ? {} : { fileChecksum };
    return { ok: false, unavailable: { kind, resourceField, missing, ...known } };
  }
  const width = readInteger(fields, `res${family}Width`);
  const height = readInteger(fields, `res${family}Height`);
  return {
    ok: true,
    version: {
      kind,
      resourceField,
      size,
      fileChecksum,
      uti: readString(fields, `res${family}FileType`) ?? defaultUti(family, itemType),
      downloadUrl: downloadURL,
      ...(width !== undefined ? { width } : {}),
      ...(height !== undefined ? { height } : {}),
    },
  };
}

export interface ExtractedVersions {
  readonly versions: AssetVersion[];
  readonly unavailableVersions: UnavailableVersion[];
}

/**
 * The versions of one photo or video. `masterFields` is absent for an asset-only change (then only
 * the asset's own renditions are listed). The asset's complete token wins; else the master's;
 * a version neither side can supply completely is reported unavailable.
 */
export function extractVersions(input: {
  readonly mediaType: MediaType;
  readonly itemType?: string;
  readonly masterFields?: RawFields;
  readonly assetFields: RawFields;
}): ExtractedVersions {
  const table = input.mediaType === 'video' ? VIDEO_VERSIONS : PHOTO_VERSIONS;
  const versions: AssetVersion[] = [];
  const unavailableVersions: UnavailableVersion[] = [];
  for (const [kind, family] of table) {
    const fromAsset = candidate(input.assetFields, kind, family, input.itemType);
    const fromMaster = input.masterFields
      ? candidate(input.masterFields, kind, family, input.itemType)
      : undefined;
    if (fromAsset?.ok) versions.push(fromAsset.version);
    else if (fromMaster?.ok) versions.push(fromMaster.version);
    else {
      const reported = fromAsset ?? fromMaster;
      if (reported && !reported.ok) unavailableVersions.push(reported.unavailable);
    }
  }
  return { versions, unavailableVersions };
}
