/**
 * How a zone-log key becomes a CloudKit record name and type, and whether that record currently
 * exists (a record that does not is served as a tombstone, docs/protocol/records.md#tombstones).
 */
import type { LibraryCore } from './core.ts';
import type { RecordKey } from './history.ts';
import { CODE } from './ids.ts';
import { SHARED_ZONE, type ZoneKey } from './model.ts';

export function recordNameOf(core: LibraryCore, zone: ZoneKey, key: RecordKey): string {
  switch (key.t) {
    case 'asset':
      return core.assetName(key.slot);
    case 'master':
      return core.masterName(key.slot);
    case 'relation':
      return `${core.assetName(key.slot)}-IN-${core.state.albums[key.album]?.recordName ?? ''}`;
    case 'album':
      return core.state.albums[key.album]?.recordName ?? '';
    case 'info':
      return zone === SHARED_ZONE ? 'SharedSync-0000-LI' : 'PrimarySync-0000-LI';
    case 'quota':
      return `SharedLibraryQuota-${core.person(key.person).userRecordName}`;
    case 'ghostMaster':
      return core.ids.fingerprint(key.slot, CODE.GhostMaster, 0);
    case 'ghostAsset':
      return core.ids.uuid(key.slot, CODE.GhostAsset);
  }
}

export function recordTypeOf(key: RecordKey): string {
  switch (key.t) {
    case 'asset':
    case 'ghostAsset':
      return 'CPLAsset';
    case 'master':
    case 'ghostMaster':
      return 'CPLMaster';
    case 'relation':
      return 'CPLContainerRelation';
    case 'album':
      return 'CPLAlbum';
    case 'info':
      return 'CPLLibraryInfo';
    case 'quota':
      return 'CPLSharedLibraryQuota';
  }
}

/** Whether the record exists now (false means: serve a tombstone). */
export function recordExists(core: LibraryCore, zone: ZoneKey, key: RecordKey): boolean {
  const s = core.state;
  switch (key.t) {
    case 'asset':
      return s.exists(key.slot) && s.zoneOf(key.slot) === zone && !s.isPurged(key.slot);
    case 'master':
      return s.exists(key.slot) && s.masterExists(key.slot, zone);
    case 'relation':
      return (
        s.exists(key.slot) &&
        s.zoneOf(key.slot) === zone &&
        !s.isPurged(key.slot) &&
        s.hasRelation(key.slot, key.album) &&
        s.albums[key.album]?.deleted === false
      );
    case 'album':
      return key.album < s.albums.length && zone === 0;
    case 'info':
      return true;
    case 'quota':
      return zone === SHARED_ZONE;
    case 'ghostMaster':
    case 'ghostAsset':
      return false;
  }
}

/** Resolves a record name inside a zone (for `records/lookup` and `records/modify`). */
export function keyOfRecordName(core: LibraryCore, zone: ZoneKey, name: string): RecordKey | undefined {
  const s = core.state;
  if (name === (zone === SHARED_ZONE ? 'SharedSync-0000-LI' : 'PrimarySync-0000-LI')) return { t: 'info' };
  if (zone === SHARED_ZONE && name.startsWith('SharedLibraryQuota-')) {
    const user = name.slice('SharedLibraryQuota-'.length);
    if (user === core.family.owner.userRecordName) return { t: 'quota', person: 'owner' };
    if (user === core.family.member.userRecordName) return { t: 'quota', person: 'member' };
    return undefined;
  }
  const inAt = name.indexOf('-IN-');
  if (inAt > 0) {
    const slot = core.slotOfAssetName(name.slice(0, inAt));
    const albumName = name.slice(inAt + 4);
    const album = s.albums.findIndex((a) => a.recordName === albumName);
    return slot !== undefined && album >= 0 ? { t: 'relation', slot, album } : undefined;
  }
  const album = s.albums.findIndex((a) => a.recordName === name);
  if (album >= 0) return { t: 'album', album };
  const slot = core.slotOfAssetName(name);
  if (slot !== undefined) return { t: 'asset', slot };
  const master = core.slotOfMasterName(name);
  if (master !== undefined) return { t: 'master', slot: master };
  return undefined;
}
