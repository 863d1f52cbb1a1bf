/**
 * THE seam for new-generation Shared Albums (docs/protocol/shared-albums.md#new-generation): every
 * guess about what Apple's `SharedCollection-<UUID>` zones hold is read here and nowhere else, so
 * a wrong guess is fixed in this one file. What rests on evidence: the zone-name prefix (kei #705),
 * a `cloudkit.share` record with `cloudkit.title` and `cloudkit.type = photos_sharedcollections`,
 * `CPLMaster`/`CPLAsset` item records, removed items kept as a `CPLAsset` with `isDeleted = 1`
 * (one unattributed fixture). What is inferred: the share record's `participants`/`owner` shape,
 * that the item's contributor is the record's `created.userRecordName`, that `resOriginalRes` is
 * the original, that `changes/database` carries each zone's sync token, and that a
 * `CPLTextComment` names its item by `associatedAssetRef` and that a `CPLPost`'s `caption` belongs
 * to the items carrying its `assetBatchId` (one unattributed client).
 */
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { SharedCollectionZone, SharedComment, SharedItem } from '#domain/shared-albums/model.ts';
import { isErrorEntry, type WireZoneEntry } from '../cloudkit/wire-schemas.ts';
import { fileNameOf } from '../records/file-name.ts';

const COLLECTION_ZONE =
  /^SharedCollection-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

export const isCollectionZoneName = (zoneName: string): boolean => COLLECTION_ZONE.test(zoneName);

export interface ListedCollection {
  readonly zone: SharedCollectionZone;
  /** The zone's sync token: unchanged while the album is (its change tag). */
  readonly syncToken: string;
}

/** The album zones among `changes/database` entries of `database` (deleted and failed ones dropped). */
export function collectionZonesOf(
  database: 'private' | 'shared',
  entries: readonly WireZoneEntry[],
  callerRecordName: string | undefined,
): ListedCollection[] {
  const out: ListedCollection[] = [];
  for (const entry of entries) {
    if (entry.deleted === true || isErrorEntry(entry)) continue;
    const { zoneName, ownerRecordName } = entry.zoneID;
    if (!isCollectionZoneName(zoneName) || out.some((c) => c.zone.zoneName === zoneName)) continue;
    out.push({
      zone: { database, zoneName, ownerRecordName: ownerRecordName ?? callerRecordName ?? '' },
      syncToken: entry.syncToken ?? '',
    });
  }
  return out;
}

export interface MappedCollection {
  /** From the share record; undefined when the zone served none. */
  readonly title?: string;
  readonly ownerName?: string;
  /** Live items, in the order the zone served them. */
  readonly items: readonly SharedItem[];
  /** `CPLTextComment`s per item (asset record name), oldest first. */
  readonly comments: ReadonlyMap<string, readonly SharedComment[]>;
  readonly problems: readonly UnexpectedResponseError[];
}

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw | undefined => (typeof v === 'object' && v !== null ? (v as Raw) : undefined);
const fieldValue = (fields: Raw | undefined, name: string): unknown => obj(fields?.[name])?.value;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v)
    ? v
    : typeof v === 'string' && /^\d+$/.test(v)
      ? Number(v)
      : undefined;
/** `isDeleted` arrives as 0/1 or as a boolean (S142). */
const truthy = (v: unknown): boolean => v === true || v === 1 || v === '1';

/**
 * A whole zone read from its start (every `changes/zone` page's records, in order; a later copy
 * of a record supersedes an earlier one) -> the album's title, owner and live items.
 */
export function mapCollection(records: readonly unknown[]): MappedCollection {
  const latest = new Map<string, Raw>();
  for (const r of records) {
    const record = obj(r);
    const name = str(record?.recordName);
    if (record && name) latest.set(name, record);
  }
  const problems: UnexpectedResponseError[] = [];
  const names = new Map<string, string>();
  let title: string | undefined;
  let ownerName: string | undefined;
  const masters = new Map<string, Raw>();
  const assets: Raw[] = [];
  const commentRecords: Raw[] = [];
  const captions = new Map<string, string>();
  for (const record of latest.values()) {
    if (record.deleted === true) continue;
    const code = str(record.serverErrorCode);
    if (code !== undefined) {
      // A record the server could not read (inline error entry): not known to be gone.
      problems.push(
        new UnexpectedResponseError(
          `shared collection record ${str(record.recordName)} came as an error (${code})`,
        ),
      );
      continue;
    }
    switch (record.recordType) {
      case 'cloudkit.share': {
        const fields = obj(record.fields);
        title = str(fieldValue(fields, 'cloudkit.title'));
        const participants = Array.isArray(record.participants) ? record.participants : [];
        for (const p of [...participants, record.owner]) {
          const identity = obj(obj(p)?.userIdentity);
          const id = str(identity?.userRecordName);
          const parts = obj(identity?.nameComponents);
          const full = [str(parts?.givenName), str(parts?.familyName)].filter(Boolean).join(' ');
          if (id && full) names.set(id, full);
          if (id && full && obj(p)?.type === 'OWNER') ownerName = full;
        }
        break;
      }
      case 'CPLMaster':
        masters.set(str(record.recordName)!, record);
        break;
      case 'CPLAsset':
        assets.push(record);
        break;
      case 'CPLTextComment':
        commentRecords.push(record);
        break;
      case 'CPLPost': {
        const fields = obj(record.fields);
        const batch = str(fieldValue(fields, 'assetBatchId'));
        const caption = str(fieldValue(fields, 'caption'));
        if (batch && caption) captions.set(batch, caption);
        break;
      }
      default:
        // CPLReact: not archived yet.
        break;
    }
  }
  const comments = new Map<string, SharedComment[]>();
  for (const record of commentRecords) {
    const fields = obj(record.fields);
    const target = str(obj(fieldValue(fields, 'associatedAssetRef'))?.recordName);
    if (target === undefined) continue;
    const author = str(obj(record.created)?.userRecordName);
    const at = num(fieldValue(fields, 'commentTimestamp')) ?? num(obj(record.created)?.timestamp);
    const list = comments.get(target) ?? [];
    list.push({
      kind: 'text',
      text: str(fieldValue(fields, 'commentText')) ?? '',
      author: (author && names.get(author)) ?? author ?? '',
      ...(at === undefined ? {} : { at }),
    });
    comments.set(target, list);
  }
  for (const list of comments.values()) list.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  const items: SharedItem[] = [];
  for (const asset of assets) {
    const fields = obj(asset.fields);
    if (truthy(fieldValue(fields, 'isDeleted'))) continue;
    const assetName = str(asset.recordName)!;
    const masterName = str(obj(fieldValue(fields, 'masterRef'))?.recordName);
    const master = masterName === undefined ? undefined : masters.get(masterName);
    if (!master || !masterName) {
      problems.push(
        new UnexpectedResponseError(`shared collection item ${assetName} has no readable master`),
      );
      continue;
    }
    const mf = obj(master.fields) ?? {};
    const res = obj(fieldValue(mf, 'resOriginalRes'));
    const url = str(res?.downloadURL);
    const checksum = str(res?.fileChecksum);
    if (!url || !checksum) {
      problems.push(
        new UnexpectedResponseError(`shared collection item ${assetName} has no original to download`),
      );
      continue;
    }
    const uti = str(fieldValue(mf, 'resOriginalFileType')) ?? 'public.jpeg';
    const creator = str(obj(asset.created)?.userRecordName) ?? str(obj(master.created)?.userRecordName);
    const width = num(fieldValue(mf, 'resOriginalWidth'));
    const height = num(fieldValue(mf, 'resOriginalHeight'));
    const added = num(fieldValue(fields, 'addedDate')) ?? num(obj(asset.created)?.timestamp);
    const captured = num(fieldValue(mf, 'originalCreationDate')) ?? num(fieldValue(fields, 'assetDate'));
    const contributorName = creator === undefined ? undefined : names.get(creator);
    const fingerprint = str(fieldValue(mf, 'resOriginalFingerprint'));
    const batch = str(fieldValue(fields, 'assetBatchId'));
    const caption = batch === undefined ? undefined : captions.get(batch);
    items.push({
      assetGuid: assetName,
      masterRecordName: masterName,
      // Comments are records of their own: their count joins the tag so a new one is noticed.
      changeTag: `${str(asset.recordChangeTag) ?? ''}:${comments.get(assetName)?.length ?? 0}`,
      fileName: fileNameOf(masterName, mf, undefined).fileName,
      ...(creator === undefined ? {} : { contributorDsid: creator }),
      ...(contributorName === undefined ? {} : { contributorName }),
      ...(added === undefined ? {} : { addedDate: added }),
      ...(captured === undefined ? {} : { captureDate: captured }),
      rendition: {
        field: 'resOriginalRes',
        downloadUrl: url,
        fileChecksum: checksum,
        size: num(res?.size) || num(fieldValue(mf, 'resOriginalFileSize')) || 0,
        uti,
        ...(width === undefined ? {} : { width }),
        ...(height === undefined ? {} : { height }),
      },
      ...(fingerprint === undefined ? {} : { fingerprint }),
      ...(caption === undefined ? {} : { caption }),
      likeCount: 0,
    });
  }
  return {
    ...(title === undefined ? {} : { title }),
    ...(ownerName === undefined ? {} : { ownerName }),
    items,
    comments,
    problems,
  };
}
