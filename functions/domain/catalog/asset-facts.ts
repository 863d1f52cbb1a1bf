/**
 * What detection read about an asset that the manifest does not keep: its name, kind, capture time
 * and description (title, caption, keywords, location, size, duration). The catalog keeps the
 * newest facts of each asset; a change that brings only the asset record (a favourite, a new
 * caption) replaces the asset record's facts and keeps the master's (name, kind, pixel size).
 */
import type { Asset, AssetDescription, AssetOnlyChange, MediaType } from '#domain/model/asset.ts';

export interface AssetFacts {
  readonly fileName?: string;
  readonly mediaType?: MediaType;
  readonly captureTime?: number;
  readonly timeZoneOffsetSeconds?: number;
  readonly description?: AssetDescription;
}

/** The facts of a whole asset (master and asset record). */
export function factsOfAsset(asset: Asset): AssetFacts {
  return {
    fileName: asset.fileName,
    mediaType: asset.mediaType,
    captureTime: asset.captureTime,
    ...(asset.timeZoneOffsetSeconds === undefined
      ? {}
      : { timeZoneOffsetSeconds: asset.timeZoneOffsetSeconds }),
    description: asset.description ?? {},
  };
}

/** The facts a lone asset record carries (no name, kind or pixel size: those are the master's). */
export function factsOfAssetRecord(change: AssetOnlyChange): AssetFacts {
  const { width: _w, height: _h, ...assetSide } = change.description ?? {};
  return {
    ...(change.captureTime === undefined ? {} : { captureTime: change.captureTime }),
    ...(change.timeZoneOffsetSeconds === undefined
      ? {}
      : { timeZoneOffsetSeconds: change.timeZoneOffsetSeconds }),
    description: assetSide,
  };
}

/**
 * `newer` over `older`. Name, kind and pixel size come from `newer` when it has them (a whole
 * asset), else from `older`; the asset record's facts (title, caption, keywords, location,
 * duration, time zone) are always `newer`'s when it has a description: an absent caption there
 * means the person removed it.
 */
export function mergeFacts(
  older: AssetFacts | undefined,
  newer: AssetFacts | undefined,
): AssetFacts | undefined {
  if (older === undefined) return newer;
  if (newer === undefined) return older;
  const width = newer.description?.width ?? older.description?.width;
  const height = newer.description?.height ?? older.description?.height;
  const description: AssetDescription | undefined =
    newer.description === undefined
      ? older.description
      : {
          ...newer.description,
          ...(width === undefined ? {} : { width }),
          ...(height === undefined ? {} : { height }),
        };
  const fileName = newer.fileName ?? older.fileName;
  const mediaType = newer.mediaType ?? older.mediaType;
  const captureTime = newer.captureTime ?? older.captureTime;
  const timeZoneOffsetSeconds =
    newer.captureTime !== undefined ? newer.timeZoneOffsetSeconds : older.timeZoneOffsetSeconds;
  return {
    ...(fileName === undefined ? {} : { fileName }),
    ...(mediaType === undefined ? {} : { mediaType }),
    ...(captureTime === undefined ? {} : { captureTime }),
    ...(timeZoneOffsetSeconds === undefined ? {} : { timeZoneOffsetSeconds }),
    ...(description === undefined ? {} : { description }),
  };
}
