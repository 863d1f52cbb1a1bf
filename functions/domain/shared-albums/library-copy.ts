/**
 * A Shared Album item that is also a photo of your own library is stored once
 * (docs/archive-layout.md#12-shared-albums, "Stored once"): when the item's Apple checksum equals
 * the archived original of a library photo, the item references that object instead of storing
 * the bytes again, and is recorded among the library master's users so the library's `mirror`
 * never deletes an object an album still shows (and the album's `mirror` never deletes one the
 * library still has).
 *
 * Which items can match: new-generation items only. In the library a master's record name, its
 * `resOriginalFingerprint` and its original's `fileChecksum` are one value
 * (docs/protocol/records.md#cplmaster), and a new-generation item posted from a library is read as
 * a server-side copy that keeps them (docs/protocol/shared-albums.md#new-generation, inferred). A
 * legacy item is Apple's re-encoded copy (at most 2,048 px / 720p): its checksum names other bytes
 * than any library original, so it is never looked up (no request spent on a match that cannot be).
 */

import type { ArchivingObjectStore } from '../../ports/object-store.ts';
import type { ArchiveStateStore } from '../../ports/sync-state-store.ts';
import type { VerifiedCopy } from '../archive/verified-copy.ts';
import type { AssetRef } from '../model/manifest.ts';
import type { ZoneRef } from '../model/zone.ts';
import { objectIdOf } from '../plan/plan-versions.ts';
import type { SharedItem } from './model.ts';
import type { LibraryReference } from './state.ts';

/** The pseudo-zone prefix naming a Shared Album in records shared with the library (claims, master users). */
export const SHARED_ALBUM_ZONE_PREFIX = 'SharedStreams-';

/** The pseudo-zone that names a Shared Album in records shared with the library (key claims, users). */
export function sharedAlbumZone(albumguid: string): ZoneRef {
  return { database: 'shared', zoneName: `${SHARED_ALBUM_ZONE_PREFIX}${albumguid}` };
}

/** True for a master user that is a Shared Album item (it has no manifest entry of its own). */
export function isSharedAlbumUser(user: AssetRef): boolean {
  return user.zone.zoneName.startsWith(SHARED_ALBUM_ZONE_PREFIX);
}

export interface LibraryCopy {
  readonly key: string;
  readonly size: number;
  readonly reference: LibraryReference;
  /** The original's hashes, as its manifest entry records them. */
  readonly hashes: VerifiedCopy;
}

/**
 * The library masters the item can be a copy of: the one its checksum names (Apple's masters are
 * named so) and the one its fingerprint names; usually one and the same, so one query.
 */
function candidateMasterNames(item: SharedItem): string[] {
  return [...new Set([item.rendition.fileChecksum, item.fingerprint])].filter(
    (name): name is string => name !== undefined && name !== '',
  );
}

/**
 * The archived library original with the item's checksum, if there is one and its object is in
 * the bucket. Reads: one master-user query per candidate master name (one, or two when the
 * fingerprint differs from the checksum), one batched manifest read and one HEAD on a match. An
 * item that matches calls it again once it is the master's user (archive-shared-album.ts claimFile).
 */
export async function findLibraryOriginal(
  state: ArchiveStateStore,
  objects: ArchivingObjectStore,
  item: SharedItem,
): Promise<LibraryCopy | undefined> {
  const checksum = item.rendition.fileChecksum;
  for (const masterRecordName of candidateMasterNames(item)) {
    const users = (await state.masterUsers(masterRecordName)).filter((u) => !isSharedAlbumUser(u));
    if (users.length === 0) continue;
    const entries = await state.getEntries(users);
    for (const entry of entries.values()) {
      const version = entry.versions.find((v) => v.kind === 'original' && v.fileChecksum === checksum);
      if (version === undefined) continue;
      const head = await objects.head(version.key);
      if (head === undefined) continue;
      return {
        key: version.key,
        size: head.size,
        hashes: { sha256: version.sha256, md5: version.md5 },
        reference: {
          zone: entry.zone,
          assetRecordName: entry.assetRecordName,
          masterRecordName: entry.masterRecordName,
          kind: version.kind,
        },
      };
    }
  }
  return undefined;
}

/**
 * Deliveries of an album's work during which a new item waits for its library twin
 * (docs/archive-layout.md#12-shared-albums): while `delivery <= TWIN_WAIT_DELIVERIES` and the twin
 * is on its way, the item is not stored. Two waits leave three of the work queue's five receives
 * (infra/work-queue.ts `MAX_RECEIVE_COUNT`) to real faults, so a wait never ends in the
 * dead-letter queue; on the next delivery the item stores its own copy if the twin is still not
 * archived (its library work failed, or is slower than two visibility timeouts).
 */
export const TWIN_WAIT_DELIVERIES = 2;

/**
 * True when a library photo with the item's checksum is being archived but its original is not
 * yet: a library worker recorded itself among the master's users (it does so before storing,
 * process-work-message.ts) and wrote no manifest entry yet. A written entry without that original
 * (a version policy that skips it, a trashed or purged photo) will not bring it: false. Same reads
 * as `findLibraryOriginal`, no HEAD.
 */
export async function libraryTwinComing(state: ArchiveStateStore, item: SharedItem): Promise<boolean> {
  for (const masterRecordName of candidateMasterNames(item)) {
    const users = (await state.masterUsers(masterRecordName)).filter((u) => !isSharedAlbumUser(u));
    if (users.length === 0) continue;
    const entries = await state.getEntries(users);
    if (entries.size < users.length) return true;
  }
  return false;
}

/**
 * The item no longer shows the library object (removed from its album, under `mirror`): it stops
 * being a user of the master; the object is deleted only when no live library entry, no library
 * worker under way (a user without an entry yet) and no other album item still uses it (the library
 * photo was purged and this was the last album showing it).
 * Returns true when the object was deleted.
 */
export async function releaseLibraryReference(
  state: ArchiveStateStore,
  objects: ArchivingObjectStore,
  user: AssetRef,
  item: { readonly key: string; readonly fileChecksum: string; readonly library: LibraryReference },
): Promise<boolean> {
  const { masterRecordName, kind } = item.library;
  await state.removeMasterUser(masterRecordName, user);
  const users = await state.masterUsers(masterRecordName);
  if (users.some(isSharedAlbumUser)) return false;
  const entries = await state.getEntries(users);
  // A user without an entry is a library worker under way: it will list the object it adopts.
  if (entries.size < users.length) return false;
  for (const entry of entries.values()) {
    if (entry.status !== 'purged' && entry.versions.some((v) => v.key === item.key)) return false;
  }
  await objects.delete(item.key);
  await state.uncountObject(item.key);
  const objectId = objectIdOf(masterRecordName, kind, item.fileChecksum);
  await state.forgetObjectKey(objectId, item.key);
  await state.releaseKey(item.key, objectId);
  return true;
}
