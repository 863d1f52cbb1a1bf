/**
 * CloudKit records built from the library on demand (docs/protocol/cloudkit.md#record-envelope envelope, docs/protocol/records.md schemas): CPLMaster,
 * CPLAsset, CPLAlbum, CPLContainerRelation, CPLLibraryInfo, CPLSharedLibraryQuota, tombstones, and
 * the synthetic CheckIndexingState / IndexCountResult records. Download URLs are minted per response.
 */
import { randomUUID } from 'node:crypto';
import type { LibraryCore } from '../library/core.ts';
import type { RecordKey } from '../library/history.ts';
import type { SimLibrary } from '../library/index.ts';
import {
  type MasterContent,
  MEMBER_PRIMARY,
  OWNER_PRIMARY,
  SHARED_ZONE,
  TRASH_WINDOW_MS,
  type ZoneKey,
} from '../library/model.ts';
import { recordExists, recordNameOf, recordTypeOf } from '../library/record-names.ts';
import { assetResources, type IdentifiedResource, masterResources } from '../library/resources.ts';
import { bplistDict } from './bplist.ts';

type Field = { value?: unknown; type?: string };
type Fields = Record<string, Field>;
export type CkRecord = Record<string, unknown>;

export interface RecordContext {
  readonly library: SimLibrary;
  readonly requestUuid: string;
  /** `desiredKeys` of the request; undefined = every field. */
  readonly desiredKeys?: ReadonlySet<string>;
}

const TEN_DAYS_S = 864_000;

const int = (value: number): Field => ({ value, type: 'INT64' });
const str = (value: string): Field => ({ value, type: 'STRING' });
const ts = (value: number): Field => ({ value, type: 'TIMESTAMP' });
const enc = (value: string | Buffer): Field => ({
  value: (typeof value === 'string' ? Buffer.from(value, 'utf8') : value).toString('base64'),
  type: 'ENCRYPTED_BYTES',
});

const TIME_ZONE_NAMES: Readonly<Record<number, string>> = {
  0: 'Europe/London',
  3600: 'Europe/Berlin',
  7200: 'Europe/Athens',
  [-18_000]: 'America/New_York',
  [-25_200]: 'America/Denver',
  [-10_800]: 'America/Sao_Paulo',
  19800: 'Asia/Kolkata',
  25200: 'Asia/Bangkok',
  32400: 'Asia/Tokyo',
  34200: 'Australia/Adelaide',
};

/** The recorded 2018 change-tag style: short base-36 strings that change with every modification. */
export const changeTagOf = (position: number): string => (position + 46_656).toString(36);

export function zoneIdOf(library: SimLibrary, zone: ZoneKey): Record<string, string> {
  const info = library.core.zone(zone);
  return library.quirks.cassetteShapes
    ? { zoneName: info.zoneName, ownerRecordName: info.ownerRecordName }
    : { zoneName: info.zoneName, ownerRecordName: info.ownerRecordName, zoneType: 'REGULAR_CUSTOM_ZONE' };
}

function reference(library: SimLibrary, zone: ZoneKey, recordName: string, action: 'DELETE_SELF' | 'NONE') {
  return { recordName, action, zoneID: zoneIdOf(library, zone) };
}

function filterFields(fields: Fields, desired: ReadonlySet<string> | undefined): Fields {
  if (!desired) return fields;
  const out: Fields = {};
  for (const [name, field] of Object.entries(fields)) if (desired.has(name)) out[name] = field;
  return out;
}

/** A record of `zone` by its log key: the current record, or a tombstone if it no longer exists. */
export function buildRecord(ctx: RecordContext, zone: ZoneKey, key: RecordKey): CkRecord {
  const core = ctx.library.core;
  const log = core.logs[zone];
  const position = log.latestPosition(key) ?? 0;
  const recordName = recordNameOf(core, zone, key);
  const recordChangeTag = changeTagOf(position);
  if (!recordExists(core, zone, key)) {
    return { recordName, recordType: null, deleted: true, recordChangeTag };
  }
  const modifiedAt = log.latestTime(key) ?? core.state.catalog.anchor;
  const built = buildFields(ctx, zone, key, modifiedAt);
  const record: CkRecord = {
    recordName,
    recordType: recordTypeOf(key),
    fields: filterFields(built.fields, ctx.desiredKeys),
    pluginFields: {},
    recordChangeTag,
    created: built.created,
    modified: built.modified,
    deleted: false,
    zoneID: zoneIdOf(ctx.library, zone),
  };
  if (built.expirationTime !== undefined) record.expirationTime = built.expirationTime;
  encodeBooleans(ctx.library, record);
  return record;
}

/** The boolean-like fields S142 in docs/protocol/simulator-contract.md#zones-records-downloads-2026 lets a switch encode as JSON booleans. */
export const BOOLEAN_LIKE_FIELDS = [
  'isDeleted',
  'isExpunged',
  'isHidden',
  'isFavorite',
  'isKeyAsset',
] as const;

/**
 * S142 in docs/protocol/simulator-contract.md#zones-records-downloads-2026: when a `booleanEncoding` rule for this record type covers the simulated now, the
 * boolean-like INT64 fields become `{"value": true|false}` (rclone's forum dump of album records).
 */
function encodeBooleans(library: SimLibrary, record: CkRecord): void {
  const rules = library.quirks.booleanEncoding;
  if (rules.length === 0) return;
  const now = library.clock.now();
  const rule = rules.find(
    (r) =>
      r.recordType === record.recordType &&
      (r.from === undefined || now >= r.from) &&
      (r.until === undefined || now < r.until),
  );
  if (rule?.encoding !== 'boolean') return;
  // A copy: field objects may be cached between records.
  const fields = { ...(record.fields as Fields) };
  record.fields = fields;
  for (const name of BOOLEAN_LIKE_FIELDS) {
    const field = fields[name];
    if (field?.type === 'INT64' && (field.value === 0 || field.value === 1)) {
      fields[name] = { value: field.value === 1 };
    }
  }
}

interface Built {
  fields: Fields;
  created: { timestamp: number; userRecordName: string; deviceID: string };
  modified: { timestamp: number; userRecordName: string; deviceID: string };
  expirationTime?: number;
}

function buildFields(ctx: RecordContext, zone: ZoneKey, key: RecordKey, modifiedAt: number): Built {
  const core = ctx.library.core;
  const owner = core.zone(zone).ownerRecordName;
  const stamp = (timestamp: number, userRecordName = owner, deviceID = '1') => ({
    timestamp,
    userRecordName,
    deviceID,
  });
  switch (key.t) {
    case 'asset':
      return assetFields(ctx, zone, key.slot, modifiedAt);
    case 'master':
      return masterFields(ctx, zone, key.slot, modifiedAt);
    case 'album': {
      const album = core.state.albums[key.album]!;
      const fields: Fields = {
        recordModificationDate: ts(album.modifiedAt),
        sortAscending: int(album.sortAscending),
        sortType: int(album.sortType),
        albumType: int(album.albumType),
        position: int(album.position),
        sortTypeExt: int(0),
      };
      if (album.name !== undefined) fields.albumNameEnc = enc(album.name);
      if (album.parentIndex !== undefined)
        fields.parentId = str(core.state.albums[album.parentIndex]!.recordName);
      if (album.deleted) fields.isDeleted = int(1);
      return { fields, created: stamp(album.createdAt), modified: stamp(modifiedAt) };
    }
    case 'relation': {
      const album = core.state.albums[key.album]!;
      const at = core.state.relationsAdded.get(`${key.slot}:${key.album}`) ?? core.state.addedTime(key.slot);
      return {
        fields: {
          containerId: str(album.recordName),
          itemId: str(core.assetName(key.slot)),
          isKeyAsset: int(0),
          position: int(core.state.relationPosition(key.slot, key.album)),
          recordModificationDate: ts(modifiedAt),
        },
        created: stamp(at),
        modified: stamp(modifiedAt),
      };
    }
    case 'info':
      return {
        fields: libraryInfoFields(ctx.library, zone),
        created: stamp(core.state.catalog.anchor - 3650 * 86_400_000),
        modified: stamp(modifiedAt),
      };
    case 'quota':
      return {
        fields: { contributedQuotaInSharedLibrary: int(contributedQuota(ctx.library, key.person)) },
        created: stamp(core.state.catalog.anchor - 400 * 86_400_000),
        modified: stamp(modifiedAt),
      };
    default:
      return { fields: {}, created: stamp(modifiedAt), modified: stamp(modifiedAt) };
  }
}

function resourceFields(
  ctx: RecordContext,
  zone: ZoneKey,
  resources: readonly IdentifiedResource[],
  fileSizes: boolean,
) {
  const fields: Fields = {};
  const zoneName = ctx.library.core.zone(zone).zoneName;
  for (const r of resources) {
    const p = r.fieldPrefix;
    const token: Record<string, unknown> = {
      fileChecksum: r.fileChecksum,
      size: r.resource.size,
      wrappingKey: r.wrappingKey,
      referenceChecksum: r.referenceChecksum,
    };
    if (!r.resource.noDownloadUrl && !ctx.library.quirks.withheldDownloadUrls.includes(r.fileChecksum)) {
      token.downloadURL =
        ctx.library.quirks.hostileDownloadUrl ??
        ctx.library.minter.mint({
          fileChecksum: r.fileChecksum,
          referenceChecksum: r.referenceChecksum,
          zoneName,
          requestUuid: ctx.requestUuid,
        });
    }
    fields[`${p}Res`] = { value: token, type: 'ASSETID' };
    fields[`${p}FileType`] = str(r.resource.uti);
    fields[`${p}Fingerprint`] = str(r.fileChecksum);
    fields[`${p}Width`] = int(r.resource.width);
    fields[`${p}Height`] = int(r.resource.height);
    if (fileSizes) fields[`${p}FileSize`] = int(r.resource.size);
  }
  return fields;
}

function filenameField(content: MasterContent): Field | undefined {
  const name = content.fileName;
  switch (content.filenameEncoding) {
    case 'ENCRYPTED_BYTES':
      return enc(name);
    case 'STRING':
      return str(name);
    case 'missing':
      return undefined;
    case 'empty':
      return { value: '', type: 'ENCRYPTED_BYTES' };
    case 'nonUtf8':
      // The recorded value: `abcdefgh` decodes to bytes that are not UTF-8 (docs/protocol/records.md#filenameenc).
      return { value: 'abcdefgh', type: 'ENCRYPTED_BYTES' };
    case 'badBase64': {
      let value = Buffer.from(name, 'utf8').toString('base64').replace(/=+$/, '');
      if (value.length % 4 === 0) value = value.slice(0, -1);
      return { value, type: 'ENCRYPTED_BYTES' };
    }
  }
}

function contributorsField(ctx: RecordContext, slot: number): Field {
  const core = ctx.library.core;
  const who = core.state.contributorOf(slot) ?? 'owner';
  return {
    value: [reference(ctx.library, SHARED_ZONE, core.person(who).userRecordName, 'NONE')],
    type: 'REFERENCE_LIST',
  };
}

function masterFields(ctx: RecordContext, zone: ZoneKey, masterSlot: number, modifiedAt: number): Built {
  const library = ctx.library;
  const core = library.core;
  const s = core.state;
  const content = s.content(masterSlot);
  const shared = zone === SHARED_ZONE;
  const refs = s.refs(masterSlot, zone).filter((r) => !s.isPurged(r));
  const first = refs[0] ?? masterSlot;
  const fields: Fields = {};
  const filename = filenameField(content);
  if (filename) fields.filenameEnc = filename;
  if (content.itemTypeOverride === 'noValue') fields.itemType = { type: 'STRING' };
  else if (content.itemTypeOverride !== 'missing') fields.itemType = str(content.itemType);
  fields.dataClassType = int(content.mediaType === 'video' ? 2 : 1);
  fields.originalOrientation = int(content.orientation);
  fields.videoFrameRate = int(content.mediaType === 'video' ? 30 : 0);
  Object.assign(fields, resourceFields(ctx, zone, masterResources(core, masterSlot, content), shared));
  const trash = s.masterTrash(masterSlot, zone);
  let expirationTime: number | undefined;
  if (trash) {
    const dateExpunged = trash.trashedAt + TRASH_WINDOW_MS;
    fields.isDeleted = int(1);
    fields.dateExpunged = library.quirks.dateExpungedNull ? { value: null } : ts(dateExpunged);
    expirationTime = Math.floor(dateExpunged / 1000) + TEN_DAYS_S;
  }
  const added = s.addedTime(first);
  if (shared) {
    fields.contributors = contributorsField(ctx, first);
    fields.importedBy = int(1);
    fields.importDate = ts(added);
    fields.originalCreationDate = ts(content.captureTime);
    fields.recordModificationDate = ts(modifiedAt);
    fields.fullSizeJPEGSource = int(1);
    fields.importedByBundleIdentifierEnc = enc('com.apple.camera');
    fields.importedByDisplayNameEnc = enc('Camera');
    fields.importGroupId = str(core.ids.uuid(masterSlot, 59));
  }
  const person = core.person(
    shared ? (s.contributorOf(first) ?? 'owner') : zone === MEMBER_PRIMARY ? 'member' : 'owner',
  );
  return {
    fields,
    created: { timestamp: added, userRecordName: person.userRecordName, deviceID: content.deviceId },
    modified: { timestamp: modifiedAt, userRecordName: person.userRecordName, deviceID: content.deviceId },
    ...(expirationTime !== undefined ? { expirationTime } : {}),
  };
}

function assetFields(ctx: RecordContext, zone: ZoneKey, slot: number, modifiedAt: number): Built {
  const library = ctx.library;
  const core = library.core;
  const s = core.state;
  const master = s.masterOf(slot);
  const content = s.content(master);
  const state = s.state(slot);
  const shared = zone === SHARED_ZONE;
  const added = s.addedTime(slot);
  const live = content.kind === 'live';
  const fields: Fields = {
    assetDate: ts(content.captureTime),
    addedDate: ts(added),
    timeZoneOffset: int(content.timeZoneOffsetSeconds),
    masterRef: { value: reference(library, zone, core.masterName(master), 'DELETE_SELF'), type: 'REFERENCE' },
    orientation: int(content.orientation),
    assetSubtype: int(0),
    assetSubtypeV2: int(live ? 2 : content.kind === 'screenshot' ? 3 : 0),
    assetHDRType: int(0),
    isHidden: int(state.hidden ? 1 : 0),
    isFavorite: int(state.favorite ? 1 : 0),
    duration: int(content.durationMs),
    burstFlags: int(content.burstPick ? 1 : 0),
    adjustmentRenderType: int(0),
    customRenderedValue: int(0),
    vidComplDurValue: int(live ? 2_768_333_333 : 0),
    vidComplDurScale: int(live ? 1_000_000_000 : 0),
    vidComplDispValue: int(live ? 1_200_880_290 : 0),
    vidComplDispScale: int(live ? 1_000_000_000 : 0),
    vidComplVisibilityState: int(0),
    locationEnc: enc(
      bplistDict({
        lat: content.latitude,
        lon: content.longitude,
        alt: 12.5,
        speed: 0,
        course: 0,
        horzAcc: 5,
        vertAcc: 3,
        timestamp: content.captureTime / 1000 - 978_307_200,
      }),
    ),
  };
  if (content.burstId) {
    fields.burstId = str(content.burstId);
    fields.burstFlagsExt = int(0);
  }
  if (state.edit) {
    fields.adjustmentType = str(state.edit.adjustmentType);
    if (state.edit.adjustmentType === 'com.apple.photo') {
      fields.adjustmentRenderType = int(19_968);
      fields.customRenderedValue = int(10);
      fields.adjustmentCreatorCode = str('com.apple.mobileslideshow');
      fields.adjustmentCompoundVersion = str('1.9.1');
      fields.adjustmentTimestampEnc = enc(new Date(state.edit.at).toISOString());
    }
    Object.assign(fields, resourceFields(ctx, zone, assetResources(core, slot, content), shared));
  }
  let expirationTime: number | undefined;
  const trashed = state.trashedAt !== undefined;
  if (trashed) {
    const dateExpunged = (state.trashedAt ?? 0) + TRASH_WINDOW_MS;
    fields.isDeleted = int(1);
    fields.isExpunged = int(state.expunged ? 1 : 0);
    fields.dateExpunged = library.quirks.dateExpungedNull ? { value: null } : ts(dateExpunged);
    expirationTime = Math.floor(dateExpunged / 1000) + TEN_DAYS_S;
  } else if (state.restored) {
    fields.isDeleted = { value: null };
    fields.isExpunged = { value: null };
  } else if (library.quirks.explicitIsDeletedZero) {
    fields.isDeleted = int(0);
  }
  if (state.sharedAlbumAt !== undefined) {
    fields.lastSharedDate = ts(state.sharedAlbumAt);
    fields.shareCount = int(state.shareCount);
    fields.sharedSyncSharingStateEnc = enc('shared');
  }
  if (shared) {
    fields.contributors = contributorsField(ctx, slot);
    fields.trashReason = int(trashed ? (state.trashReason ?? 1) : 0);
    if (trashed && state.trashedBy) {
      fields.deletedBy = {
        value: reference(library, SHARED_ZONE, core.person(state.trashedBy).userRecordName, 'NONE'),
        type: 'REFERENCE',
      };
    }
    fields.recordModificationDate = ts(modifiedAt);
    fields.mostRecentAddedDate = ts(added);
    fields.originalChoice = int(0);
    fields.adjustmentSourceType = int(0);
    const tzName = TIME_ZONE_NAMES[content.timeZoneOffsetSeconds];
    if (tzName) fields.timeZoneNameEnc = enc(tzName);
  }
  const creator = core.person(
    shared ? (s.contributorOf(slot) ?? 'owner') : zone === MEMBER_PRIMARY ? 'member' : 'owner',
  );
  const modifier = core.person(state.modifiedBy);
  return {
    fields,
    created: { timestamp: added, userRecordName: creator.userRecordName, deviceID: content.deviceId },
    modified: {
      timestamp: modifiedAt,
      userRecordName: modifier.userRecordName,
      deviceID: state.modifiedDevice,
    },
    ...(expirationTime !== undefined ? { expirationTime } : {}),
  };
}

const infoCache = new WeakMap<LibraryCore, Map<ZoneKey, { version: number; fields: Fields }>>();

function libraryInfoFields(library: SimLibrary, zone: ZoneKey): Fields {
  const core = library.core;
  let perZone = infoCache.get(core);
  if (!perZone) {
    perZone = new Map();
    infoCache.set(core, perZone);
  }
  const hit = perZone.get(zone);
  if (hit && hit.version === core.version) return hit.fields;
  const s = core.state;
  let photos = 0;
  let videos = 0;
  let hiddenPhotos = 0;
  let hiddenVideos = 0;
  let iris = 0;
  let bursts = 0;
  for (const slot of s.slotsOf(zone)) {
    if (s.isTrashed(slot)) continue;
    const kind = s.kindOf(slot);
    const video = kind === 'video' || kind === 'slomo' || kind === 'timelapse';
    if (s.isHidden(slot)) {
      if (video) hiddenVideos += 1;
      else hiddenPhotos += 1;
      continue;
    }
    if (video) videos += 1;
    else photos += 1;
    if (kind === 'live') iris += 1;
    if (kind === 'burst') bursts += 1;
  }
  const fields: Fields = {
    photosCount: int(photos),
    videosCount: int(videos),
    hiddenPhotosCount: int(hiddenPhotos),
    hiddenVideosCount: int(hiddenVideos),
    albumsCount: int(
      zone === OWNER_PRIMARY ? s.albums.filter((a) => !a.deleted && a.albumType === 0).length : 0,
    ),
    memoriesCount: int(0),
    othersCount: int(0),
    audiosCount: int(0),
    irisCount: int(iris),
    burstsExcludedFromPhotosCount: int(bursts),
    v2PhotosCount: int(photos),
    v2VideosCount: int(videos),
    featureVersion: int(11),
    libraryInfoVersion: int(2),
  };
  if (zone === OWNER_PRIMARY) {
    fields.linkedShareZoneNameList = { value: [core.family.sharedZoneName], type: 'STRING_LIST' };
    fields.linkedShareZoneOwnerList = { value: [core.family.owner.userRecordName], type: 'STRING_LIST' };
  }
  perZone.set(zone, { version: core.version, fields });
  return fields;
}

const quotaCache = new WeakMap<LibraryCore, { version: number; owner: number; member: number }>();

function contributedQuota(library: SimLibrary, who: 'owner' | 'member'): number {
  const core = library.core;
  const hit = quotaCache.get(core);
  if (hit && hit.version === core.version) return hit[who];
  const totals = { version: core.version, owner: 0, member: 0 };
  const s = core.state;
  for (const slot of s.slotsOf(SHARED_ZONE)) {
    if (s.isTrashed(slot)) continue;
    const contributor = s.contributorOf(slot) ?? 'owner';
    const size = s.content(s.masterOf(slot)).resources.reduce((sum, r) => sum + r.size, 0);
    totals[contributor] += size;
  }
  quotaCache.set(core, totals);
  return totals[who];
}

/** `CheckIndexingState` (docs/protocol/cloudkit.md#checkindexingstate): fresh `_<uuid>` name per call. */
export function checkIndexingRecord(library: SimLibrary, zone: ZoneKey, now: number): CkRecord {
  const progress = library.quirks.indexingProgress;
  const info = library.core.zone(zone);
  return {
    recordName: `_${randomUUID()}`,
    recordType: 'CheckIndexingState',
    fields: {
      progress: int(progress ?? 100),
      state: str(progress === null ? 'FINISHED' : 'RUNNING'),
    },
    pluginFields: {},
    recordChangeTag: '0',
    created: { timestamp: now, userRecordName: '_10', deviceID: '1' },
    modified: { timestamp: now, userRecordName: '_10', deviceID: '1' },
    deleted: false,
    zoneID: { zoneName: info.zoneName, ownerRecordName: info.ownerRecordName },
  };
}

/** `IndexCountResult` (docs/protocol/cloudkit.md#counts). */
export function indexCountRecord(
  library: SimLibrary,
  zone: ZoneKey,
  indexName: string,
  count: number,
  now: number,
): CkRecord {
  const info = library.core.zone(zone);
  return {
    recordName: indexName,
    recordType: 'IndexCountResult',
    fields: { itemCount: int(count) },
    pluginFields: {},
    recordChangeTag: '0',
    created: { timestamp: now, userRecordName: '_10', deviceID: '1' },
    modified: { timestamp: now, userRecordName: '_10', deviceID: '1' },
    deleted: false,
    zoneID: { zoneName: info.zoneName, ownerRecordName: info.ownerRecordName },
  };
}
