/**
 * Keeps the album store in step with what iCloud says: an album record (created, renamed, moved,
 * deleted), a membership (added, moved to a new position, removed) or the whole member list of an
 * album read by the first sync's walk. Every write that changes what an album's view shows marks
 * the album `viewStale`, so the view writer rewrites exactly the albums that changed.
 */
import { ConflictError } from '#domain/errors.ts';
import {
  type AlbumMember,
  type AlbumRef,
  albumKindOf,
  type StoredAlbum,
  type StoredAlbumInput,
} from '#domain/model/album.ts';
import type { Album, ZoneChange } from '#domain/model/asset.ts';
import { assetId } from '#domain/model/manifest.ts';
import { type ZoneRef, zoneId } from '#domain/model/zone.ts';
import type { AlbumStore } from '#ports/album-store.ts';

const albumKey = (ref: AlbumRef) => `${zoneId(ref.zone)}#${ref.recordName}`;

/** A stored album's input, without the fields the store adds. */
function inputOf(album: StoredAlbum): StoredAlbumInput {
  const { updatedAt: _updatedAt, revision: _revision, ...input } = album;
  return input;
}

/**
 * What the store should hold once `album` (Apple's record) is known. The view goes stale when the
 * album is new or anything the view shows or where it lives changed: name, folder, kind, deletion.
 * A change of `position` alone (its place among its siblings) does not touch its view. A folder
 * or a smart album that never had a view is never stale: the view writer would only clear the
 * flag (a write per folder); the albums inside a moved folder go stale by their own paths.
 */
export function mergeAlbum(stored: StoredAlbum | undefined, album: Album): StoredAlbumInput {
  const next: StoredAlbumInput = {
    zone: album.zone,
    recordName: album.recordName,
    name: album.name,
    kind: albumKindOf(album.albumType),
    albumType: album.albumType,
    ...(album.parentId === undefined ? {} : { parentRecordName: album.parentId }),
    ...(album.position === undefined ? {} : { position: album.position }),
    deleted: album.isDeleted,
    viewStale: true,
    ...(stored?.view === undefined ? {} : { view: stored.view }),
  };
  const changed =
    stored === undefined ||
    stored.name !== next.name ||
    stored.parentRecordName !== next.parentRecordName ||
    stored.kind !== next.kind ||
    stored.deleted !== next.deleted;
  if (next.kind !== 'album' && stored?.view === undefined) return { ...next, viewStale: false };
  return { ...next, viewStale: changed || (stored?.viewStale ?? true) };
}

function sameAlbum(a: StoredAlbumInput, b: StoredAlbum): boolean {
  return JSON.stringify(a) === JSON.stringify(inputOf(b));
}

/**
 * Reads, changes and writes back one album, once more after a lost race (the view writer may
 * have written it meanwhile). `change` returns undefined to leave the album as it is.
 */
async function updateAlbum(
  store: AlbumStore,
  ref: AlbumRef,
  known: StoredAlbum | undefined,
  change: (stored: StoredAlbum | undefined) => StoredAlbumInput | undefined,
): Promise<StoredAlbum | undefined> {
  let stored = known;
  for (let attempt = 1; ; attempt += 1) {
    const next = change(stored);
    if (next === undefined || (stored !== undefined && sameAlbum(next, stored))) return stored;
    try {
      return await store.saveAlbum(next, stored?.revision ?? 0);
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 3) throw error;
      stored = await store.loadAlbum(ref);
    }
  }
}

/** Marks an album's view stale (a member came, went or moved); unknown albums are left for their record. */
async function markStale(store: AlbumStore, ref: AlbumRef, known: StoredAlbum | undefined) {
  return updateAlbum(store, ref, known, (stored) =>
    stored === undefined || stored.viewStale ? undefined : { ...inputOf(stored), viewStale: true },
  );
}

/** What one page of changes did to the albums. */
export interface AlbumChangeCounts {
  readonly albums: number;
  readonly membersAdded: number;
  readonly membersRemoved: number;
}

/**
 * The memberships a page ends by deleting albums: iCloud sends a deleted album (and each album of a
 * deleted folder) as its record alone, with no relation tombstones, so each member the store knows
 * of a live album the page deletes leaves it here. As work, they bring the photos' catalog records
 * and sidecars up to date like any photo leaving an album. Read before the page is recorded.
 */
export async function membershipsEndedByDeletedAlbums(
  store: AlbumStore,
  changes: readonly ZoneChange[],
): Promise<ZoneChange[]> {
  const deleted = changes.flatMap((c) =>
    c.type === 'album' && c.album.isDeleted
      ? [{ zone: c.album.zone, recordName: c.album.recordName }]
      : c.type === 'tombstone' && c.inferredType !== 'CPLContainerRelation'
        ? [{ zone: c.zone, recordName: c.recordName }]
        : [],
  );
  if (deleted.length === 0) return [];
  const known = new Map((await store.loadAlbums()).map((a) => [albumKey(a), a]));
  const ended: ZoneChange[] = [];
  for (const ref of deleted) {
    const stored = known.get(albumKey(ref));
    if (stored === undefined || stored.deleted) continue;
    for (const member of await store.albumMembers(stored)) {
      ended.push({
        type: 'albumMembership',
        zone: stored.zone,
        assetRecordName: member.assetRecordName,
        albumRecordName: stored.recordName,
        present: false,
      });
    }
  }
  return ended;
}

/**
 * Records the album side of a page of zone changes, before the page's token is saved (the work a
 * token covers must be durable first). Album records first, then memberships (an album created
 * with its first photo arrives in one page); a tombstone that names a known album deletes it.
 */
export async function recordAlbumChanges(
  store: AlbumStore,
  changes: readonly ZoneChange[],
): Promise<AlbumChangeCounts> {
  const albums = changes.flatMap((c) => (c.type === 'album' ? [c.album] : []));
  const memberships = changes.flatMap((c) => (c.type === 'albumMembership' ? [c] : []));
  const tombstones = changes.flatMap((c) => (c.type === 'tombstone' ? [c] : []));
  if (albums.length + memberships.length === 0 && tombstones.length === 0) {
    return { albums: 0, membersAdded: 0, membersRemoved: 0 };
  }
  const known = new Map((await store.loadAlbums()).map((a) => [albumKey(a), a]));
  let saved = 0;
  for (const album of albums) {
    const result = await updateAlbum(store, album, known.get(albumKey(album)), (stored) =>
      mergeAlbum(stored, album),
    );
    if (result !== undefined) known.set(albumKey(album), result);
    saved += 1;
  }
  for (const tombstone of tombstones) {
    const ref = { zone: tombstone.zone, recordName: tombstone.recordName };
    const stored = known.get(albumKey(ref));
    if (stored === undefined || stored.deleted) continue;
    await updateAlbum(store, ref, stored, (s) =>
      s === undefined ? undefined : { ...inputOf(s), deleted: true, viewStale: true },
    );
    saved += 1;
  }
  // Memberships by album, the last word on each asset winning (a page may add and remove).
  const byAlbum = new Map<string, { ref: AlbumRef; put: Map<string, AlbumMember>; gone: Set<string> }>();
  for (const m of memberships) {
    const ref = { zone: m.zone, recordName: m.albumRecordName };
    const group = byAlbum.get(albumKey(ref)) ?? { ref, put: new Map(), gone: new Set<string>() };
    if (m.present) {
      group.gone.delete(m.assetRecordName);
      group.put.set(m.assetRecordName, { assetRecordName: m.assetRecordName, position: m.position ?? 0 });
    } else {
      group.put.delete(m.assetRecordName);
      group.gone.add(m.assetRecordName);
    }
    byAlbum.set(albumKey(ref), group);
  }
  let membersAdded = 0;
  let membersRemoved = 0;
  for (const { ref, put, gone } of byAlbum.values()) {
    if (put.size > 0) await store.putAlbumMembers(ref, [...put.values()]);
    if (gone.size > 0) await store.removeAlbumMembers(ref, [...gone]);
    membersAdded += put.size;
    membersRemoved += gone.size;
    await markStale(store, ref, known.get(albumKey(ref)));
  }
  return { albums: saved, membersAdded, membersRemoved };
}

/**
 * Makes an album's stored members exactly `members` (read whole from iCloud): adds and moves what
 * differs, removes what is gone, and marks the view stale when anything changed. Idempotent.
 * `known` reads the album record, only when its view must be marked (an unchanged album costs
 * no read of it). A read with problems (`complete: false`: a member CloudKit served as an error
 * item) adds and moves but removes nothing: a member it did not show may still be there.
 */
export async function replaceAlbumMembers(
  store: AlbumStore,
  ref: AlbumRef,
  members: readonly AlbumMember[],
  known: () => Promise<StoredAlbum | undefined>,
  read: { readonly complete: boolean } = { complete: true },
): Promise<boolean> {
  const before = new Map((await store.albumMembers(ref)).map((m) => [m.assetRecordName, m.position]));
  const latest = new Map(members.map((m) => [m.assetRecordName, m]));
  const put = [...latest.values()].filter((m) => before.get(m.assetRecordName) !== m.position);
  const gone = read.complete ? [...before.keys()].filter((name) => !latest.has(name)) : [];
  if (put.length > 0) await store.putAlbumMembers(ref, put);
  if (gone.length > 0) await store.removeAlbumMembers(ref, gone);
  const changed = put.length + gone.length > 0;
  if (changed) await markStale(store, ref, await known());
  return changed;
}

/**
 * Records the whole album list of a zone (every folder walked): each listed album saved, and each
 * stored album of the zone the list no longer holds marked deleted (a delete a lost delta carried).
 * A list with problems (`complete: false`: an album CloudKit served as an error item, or a folder
 * so served whose albums were never listed) marks nothing deleted: what it lacks may be there.
 */
export async function recordAlbumList(
  store: AlbumStore,
  zoneAlbums: readonly Album[],
  zoneKey: string,
  list: { readonly complete: boolean } = { complete: true },
): Promise<StoredAlbum[]> {
  const known = new Map((await store.loadAlbums()).map((a) => [albumKey(a), a]));
  const listed = new Set<string>();
  const result: StoredAlbum[] = [];
  for (const album of zoneAlbums) {
    listed.add(albumKey(album));
    const saved = await updateAlbum(store, album, known.get(albumKey(album)), (stored) =>
      mergeAlbum(stored, album),
    );
    if (saved !== undefined) result.push(saved);
  }
  if (!list.complete) return result;
  for (const stored of known.values()) {
    if (zoneId(stored.zone) !== zoneKey || listed.has(albumKey(stored)) || stored.deleted) continue;
    await updateAlbum(store, stored, stored, (s) =>
      s === undefined ? undefined : { ...inputOf(s), deleted: true, viewStale: true },
    );
  }
  return result;
}

/**
 * Marks stale the view of every album a changed photo is in: a view shows its photos' state
 * (archived keys, hidden, in Recently Deleted, purged), which changes without any album record.
 * One lookup per changed photo; only for deltas (a first sync's walk writes every album anyway).
 */
export async function markAlbumsOfChangedPhotos(
  store: AlbumStore,
  changes: readonly ZoneChange[],
): Promise<number> {
  const photos = new Map<string, { zone: ZoneRef; assetRecordName: string }>();
  for (const change of changes) {
    const photo =
      change.type === 'asset'
        ? { zone: change.asset.zone, assetRecordName: change.asset.assetRecordName }
        : change.type === 'assetOnly'
          ? { zone: change.change.zone, assetRecordName: change.change.assetRecordName }
          : change.type === 'tombstone' && change.inferredType !== 'CPLContainerRelation'
            ? { zone: change.zone, assetRecordName: change.recordName }
            : undefined;
    if (photo !== undefined) photos.set(assetId(photo), photo);
  }
  if (photos.size === 0) return 0;
  const stale = new Map<string, AlbumRef>();
  for (const photo of photos.values()) {
    for (const recordName of await store.albumsOfAsset(photo.zone, photo.assetRecordName)) {
      const ref = { zone: photo.zone, recordName };
      stale.set(albumKey(ref), ref);
    }
  }
  if (stale.size === 0) return 0;
  const known = new Map((await store.loadAlbums()).map((a) => [albumKey(a), a]));
  for (const [key, ref] of stale) await markStale(store, ref, known.get(key));
  return stale.size;
}
