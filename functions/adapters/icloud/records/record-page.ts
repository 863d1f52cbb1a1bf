/**
 * One page of records (a `records` array from records/query, records/lookup or changes/zone),
 * sorted into what the mapping needs. A record that cannot be read becomes a problem of its own
 * and never hides the good records beside it.
 */
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { mapAlbum, mapMembership } from './album.ts';
import { type AssetRecord, type MasterRecord, toAssetRecord, toMasterRecord } from './master-asset.ts';
import { type CloudKitRecord, parseRecordItem, type RecordErrorItem } from './record-envelope.ts';
import { inferTombstoneType } from './tombstone.ts';

export interface SortedRecords {
  readonly masters: MasterRecord[];
  readonly assets: AssetRecord[];
  /** Albums, then memberships, then tombstones, each in page order. */
  readonly changes: ZoneChange[];
  /** Records CloudKit reported in place as errors (`NOT_FOUND`, ...). */
  readonly errorItems: RecordErrorItem[];
  /** Records that could not be read, one error each. */
  readonly problems: UnexpectedResponseError[];
  /** Records of types the pipeline does not use (CPLLibraryInfo, CPLSharedLibraryQuota, ...). */
  readonly ignoredTypes: Record<string, number>;
}

/** Sorted records of nothing yet: what a page, or the lookups of several chunks, add to. */
export function emptySortedRecords(): SortedRecords {
  return { masters: [], assets: [], changes: [], errorItems: [], problems: [], ignoredTypes: {} };
}

function tombstoneChange(record: CloudKitRecord, zone: ZoneRef): ZoneChange | undefined {
  if (
    record.recordType === 'CPLContainerRelation' ||
    inferTombstoneType(record.recordName) === 'CPLContainerRelation'
  ) {
    return mapMembership({ ...record, deleted: true }, zone);
  }
  const stated = record.recordType;
  const inferredType =
    stated === 'CPLMaster' || stated === 'CPLAsset' ? stated : inferTombstoneType(record.recordName);
  return { type: 'tombstone', zone, recordName: record.recordName, inferredType };
}

/**
 * Sorts a page. Throws `UnexpectedResponseError` only when `rawRecords` is not an array; every
 * per-record failure is collected in `problems`.
 */
export function sortRecords(rawRecords: unknown, zone: ZoneRef): SortedRecords {
  if (!Array.isArray(rawRecords)) {
    throw new UnexpectedResponseError('CloudKit sent a records list that is not an array');
  }
  const sorted = emptySortedRecords();
  const albums: ZoneChange[] = [];
  const memberships: ZoneChange[] = [];
  const tombstones: ZoneChange[] = [];
  for (const raw of rawRecords) {
    try {
      const item = parseRecordItem(raw);
      if (item.kind === 'error') {
        sorted.errorItems.push(item.error);
        continue;
      }
      const record = item.record;
      if (record.deleted) {
        const change = tombstoneChange(record, zone);
        if (change?.type === 'albumMembership') memberships.push(change);
        else if (change) tombstones.push(change);
        continue;
      }
      switch (record.recordType) {
        case 'CPLMaster':
          sorted.masters.push(toMasterRecord(record));
          break;
        case 'CPLAsset':
          sorted.assets.push(toAssetRecord(record));
          break;
        case 'CPLAlbum': {
          const album = mapAlbum(record, zone);
          if (album) albums.push({ type: 'album', album });
          break;
        }
        case 'CPLContainerRelation': {
          const membership = mapMembership(record, zone);
          if (membership) memberships.push(membership);
          else {
            throw new UnexpectedResponseError(
              `CPLContainerRelation ${record.recordName} names no asset or album`,
              {
                permanent: true,
              },
            );
          }
          break;
        }
        default: {
          const type = record.recordType ?? 'null';
          sorted.ignoredTypes[type] = (sorted.ignoredTypes[type] ?? 0) + 1;
        }
      }
    } catch (error) {
      if (!(error instanceof UnexpectedResponseError)) throw error;
      sorted.problems.push(error);
    }
  }
  sorted.changes.push(...albums, ...memberships, ...tombstones);
  return sorted;
}
