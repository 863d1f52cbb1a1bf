/**
 * CPLAlbum -> `Album` and CPLContainerRelation -> album membership (docs/protocol/records.md#cplalbum, docs/protocol/records.md#album-membership).
 */
import type { Album, ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { readEncryptedText } from './encrypted-text.ts';
import { readFlag, readInteger, readNumber, readString } from './field-values.ts';
import type { CloudKitRecord } from './record-envelope.ts';

/** Sentinel folders every library has; peers skip them (docs/protocol/records.md#cplalbum). */
const SENTINEL_ALBUMS = new Set(['----Root-Folder----', '----Project-Root-Folder----']);

/** Separates asset and album in a relation's record name: `<asset>-IN-<album>`. */
const MEMBERSHIP_SEPARATOR = '-IN-';

/**
 * Maps a CPLAlbum. Returns undefined for the sentinel folders. An album whose name cannot be
 * decoded keeps its record name as its name, so it is never lost.
 */
export function mapAlbum(record: CloudKitRecord, zone: ZoneRef): Album | undefined {
  if (SENTINEL_ALBUMS.has(record.recordName)) return undefined;
  const f = record.fields;
  const name = readEncryptedText(f, 'albumNameEnc');
  const parentId = readString(f, 'parentId');
  const position = readNumber(f, 'position');
  return {
    zone,
    recordName: record.recordName,
    name: name.ok ? name.text : record.recordName,
    albumType: readInteger(f, 'albumType') ?? 0,
    ...(parentId !== undefined ? { parentId } : {}),
    ...(position !== undefined ? { position } : {}),
    isDeleted: readFlag(f, 'isDeleted'),
  };
}

/** Splits `<asset>-IN-<album>`; undefined when the name is not a relation name. */
export function parseMembershipName(
  recordName: string,
): { readonly assetRecordName: string; readonly albumRecordName: string } | undefined {
  const at = recordName.indexOf(MEMBERSHIP_SEPARATOR);
  if (at <= 0 || at + MEMBERSHIP_SEPARATOR.length >= recordName.length) return undefined;
  return {
    assetRecordName: recordName.slice(0, at),
    albumRecordName: recordName.slice(at + MEMBERSHIP_SEPARATOR.length),
  };
}

/**
 * Maps a CPLContainerRelation, live or tombstoned. The fields `itemId`/`containerId` win; the record
 * name is the fallback (a tombstone has no fields). Undefined when neither names both ends.
 */
export function mapMembership(
  record: CloudKitRecord,
  zone: ZoneRef,
): Extract<ZoneChange, { type: 'albumMembership' }> | undefined {
  const fromName = parseMembershipName(record.recordName);
  const assetRecordName = readString(record.fields, 'itemId') ?? fromName?.assetRecordName;
  const albumRecordName = readString(record.fields, 'containerId') ?? fromName?.albumRecordName;
  if (assetRecordName === undefined || albumRecordName === undefined) return undefined;
  const position = readNumber(record.fields, 'position');
  return {
    type: 'albumMembership',
    zone,
    assetRecordName,
    albumRecordName,
    present: !record.deleted && !readFlag(record.fields, 'isDeleted'),
    ...(position !== undefined ? { position } : {}),
  };
}
