/**
 * CPLMaster + CPLAsset -> `Asset`, and a lone CPLAsset -> `AssetOnlyChange` (docs/protocol/records.md#cplmaster, docs/protocol/records.md#cplasset).
 * Pure and total: a record either maps or throws `UnexpectedResponseError` for itself alone.
 */
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Asset, AssetOnlyChange, AssetSubtype, MediaType } from '#domain/model/asset.ts';
import { extensionForUti, isRawUti } from '#domain/model/uti.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { optional } from '#shared/optional-field.ts';
import { readAssetDescription } from './asset-description.ts';
import {
  type RawFields,
  readFlag,
  readInteger,
  readReferenceName,
  readReferenceNames,
  readString,
} from './field-values.ts';
import { fileNameOf } from './file-name.ts';
import type { CloudKitRecord } from './record-envelope.ts';
import { decideMediaType } from './uti.ts';
import { extractVersions } from './versions.ts';

/** A CPLMaster, checked. */
export interface MasterRecord {
  readonly recordName: string;
  readonly recordChangeTag: string;
  readonly fields: RawFields;
}

/** A CPLAsset, checked: it names its master. */
export interface AssetRecord {
  readonly recordName: string;
  readonly recordChangeTag: string;
  readonly masterRecordName: string;
  readonly fields: RawFields;
  readonly createdTime?: number;
  readonly modifiedTime?: number;
}

export function toMasterRecord(record: CloudKitRecord): MasterRecord {
  return { recordName: record.recordName, recordChangeTag: record.recordChangeTag, fields: record.fields };
}

/** Throws `UnexpectedResponseError` when the asset does not name its master (`masterRef`, a core field). */
export function toAssetRecord(record: CloudKitRecord): AssetRecord {
  const masterRecordName = readReferenceName(record.fields, 'masterRef');
  if (masterRecordName === undefined) {
    throw new UnexpectedResponseError(`CPLAsset ${record.recordName} has no masterRef`, { permanent: true });
  }
  return {
    recordName: record.recordName,
    recordChangeTag: record.recordChangeTag,
    masterRecordName,
    fields: record.fields,
    ...optional('createdTime', record.createdTime),
    ...optional('modifiedTime', record.modifiedTime),
  };
}

/** The asset-side facts shared by `Asset` and `AssetOnlyChange`. */
function assetFacts(asset: AssetRecord) {
  const f = asset.fields;
  return {
    isFavorite: readFlag(f, 'isFavorite'),
    isHidden: readFlag(f, 'isHidden'),
    isDeleted: readFlag(f, 'isDeleted'),
    isExpunged: readFlag(f, 'isExpunged'),
    ...optional('timeZoneOffsetSeconds', readInteger(f, 'timeZoneOffset')),
    ...optional('adjustmentType', readString(f, 'adjustmentType')),
    ...optional('deletedBy', readReferenceName(f, 'deletedBy')),
    ...optional('trashReason', readInteger(f, 'trashReason')),
  };
}

/**
 * Capture time: `assetDate`, else `addedDate`, else the record's creation time. A photo without any
 * date is still a photo; only when none of the three exists is the asset unreadable.
 */
function captureTimeOf(asset: AssetRecord): number {
  const time =
    readInteger(asset.fields, 'assetDate') ?? readInteger(asset.fields, 'addedDate') ?? asset.createdTime;
  if (time === undefined) {
    throw new UnexpectedResponseError(`CPLAsset ${asset.recordName} has no date`, { permanent: true });
  }
  return time;
}

function subtypesOf(input: {
  readonly mediaType: MediaType;
  readonly assetFields: RawFields;
  readonly hasLiveVideo: boolean;
  readonly originalUti?: string;
  readonly alternativeUti?: string;
}): AssetSubtype[] {
  const f = input.assetFields;
  const subtypeV2 = readInteger(f, 'assetSubtypeV2');
  const adjustmentType = readString(f, 'adjustmentType');
  const subtypes: AssetSubtype[] = [];
  // Recorded: assetSubtypeV2 = 2 on every live photo, 3 on every screenshot (docs/protocol/records.md#cplasset).
  if (input.mediaType === 'photo' && (input.hasLiveVideo || subtypeV2 === 2)) subtypes.push('live');
  if (subtypeV2 === 3 || adjustmentType === 'ScreenshotServices') subtypes.push('screenshot');
  if (adjustmentType === 'com.apple.video.slomo') subtypes.push('slomo');
  if (readString(f, 'burstId') !== undefined) subtypes.push('burst');
  if (input.alternativeUti !== undefined && (isRawUti(input.originalUti) || isRawUti(input.alternativeUti))) {
    subtypes.push('raw+jpeg');
  }
  return subtypes;
}

/** Joins a master and its asset into the domain's `Asset` (asset fields win for every version). */
export function joinAsset(master: MasterRecord, asset: AssetRecord, zone: ZoneRef): Asset {
  const mf = master.fields;
  const itemType = readString(mf, 'itemType');
  const originalUti = readString(mf, 'resOriginalFileType');
  const fallbackExtension = extensionForUti(itemType) ?? extensionForUti(originalUti);
  const name = fileNameOf(master.recordName, mf, fallbackExtension);
  const mediaType = decideMediaType({
    ...optional('itemType', itemType),
    ...optional('originalUti', originalUti),
    fileName: name.fileName,
    ...optional('dataClassType', readInteger(mf, 'dataClassType')),
  });
  const { versions, unavailableVersions } = extractVersions({
    mediaType,
    ...optional('itemType', itemType ?? originalUti),
    masterFields: mf,
    assetFields: asset.fields,
  });
  const facts = assetFacts(asset);
  const contributors =
    readReferenceNames(asset.fields, 'contributors') ?? readReferenceNames(mf, 'contributors');
  const description = readAssetDescription(
    asset.fields,
    versions.find((v) => v.kind === 'original'),
  );
  return {
    zone,
    assetRecordName: asset.recordName,
    masterRecordName: master.recordName,
    assetChangeTag: asset.recordChangeTag,
    masterChangeTag: master.recordChangeTag,
    fileName: name.fileName,
    fileNameSource: name.source,
    mediaType,
    ...optional('itemType', itemType),
    captureTime: captureTimeOf(asset),
    ...optional('addedTime', readInteger(asset.fields, 'addedDate')),
    ...facts,
    // kei's severity rule (docs/protocol/records.md#classifying-a-change): a trashed master makes the pair trashed.
    isDeleted: facts.isDeleted || readFlag(mf, 'isDeleted'),
    ...optional('dateExpunged', readInteger(asset.fields, 'dateExpunged') ?? readInteger(mf, 'dateExpunged')),
    subtypes: subtypesOf({
      mediaType,
      assetFields: asset.fields,
      hasLiveVideo: versions.some((v) => v.kind === 'live'),
      ...optional('originalUti', versions.find((v) => v.kind === 'original')?.uti ?? originalUti),
      ...optional('alternativeUti', versions.find((v) => v.kind === 'alternative')?.uti),
    }),
    ...optional('burstId', readString(asset.fields, 'burstId')),
    ...optional('contributors', contributors),
    versions,
    ...(unavailableVersions.length > 0 ? { unavailableVersions } : {}),
    ...optional('description', description),
  };
}

/**
 * Photo or video, judged from a lone CPLAsset: a `JPEGFull` rendering means a photo (an edited live
 * photo carries `VidFull` too); otherwise `VidFull` or a non-zero `duration` means a video.
 */
function guessMediaTypeOfAsset(fields: RawFields): MediaType {
  if (fields['resJPEGFullRes'] !== undefined) return 'photo';
  if (fields['resVidFullRes'] !== undefined) return 'video';
  return (readInteger(fields, 'duration') ?? 0) > 0 ? 'video' : 'photo';
}

/**
 * A CPLAsset whose master was not in the delta (restore, hide, favourite, edit). Lists only the
 * asset's own renditions (edits); the rest of the photo is in the manifest.
 */
export function assetOnlyChange(asset: AssetRecord, zone: ZoneRef): AssetOnlyChange {
  const { versions, unavailableVersions } = extractVersions({
    mediaType: guessMediaTypeOfAsset(asset.fields),
    assetFields: asset.fields,
  });
  return {
    zone,
    assetRecordName: asset.recordName,
    masterRecordName: asset.masterRecordName,
    assetChangeTag: asset.recordChangeTag,
    ...optional('captureTime', readInteger(asset.fields, 'assetDate')),
    ...assetFacts(asset),
    versions,
    ...(unavailableVersions.length > 0 ? { unavailableVersions } : {}),
    ...optional('description', readAssetDescription(asset.fields)),
  };
}
