/**
 * `rebuild-state`'s Shared Albums part (docs/archive-layout.md#11-state-from-the-bucket): the
 * album list and every item's record from the albums' catalog lines
 * (`catalog/shared-albums/<album id>.jsonl`), with what makes deletion safe again: each stored
 * object's key and checksum claims, the items that use it, and each item stored once with your
 * library recorded among the library master's users, so the library's `mirror` purge keeps an
 * original an album still shows (docs/archive-layout.md#12-shared-albums, "Stored once").
 *
 * No album's ctag is known afterwards: the next sync reads each album once more and finds every
 * file in place (no download) and every item's change tag as it was (no comments asked again).
 * An album the state store already has is left as it is.
 */
import { ConflictError } from '#domain/errors.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { METADATA_KEYS } from '#domain/plan/object-metadata.ts';
import { sharedAlbumZone } from '#domain/shared-albums/library-copy.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import {
  decodeSharedCatalog,
  SHARED_CATALOG_PREFIX,
  type SharedCatalogLine,
} from '#domain/shared-albums/shared-catalog.ts';
import { checksumClaim, SHARED_ALBUMS_PREFIX, sharedClaimant } from '#domain/shared-albums/shared-keys.ts';
import {
  type LibraryReference,
  type StoredSharedAlbum,
  type StoredSharedItem,
  sharedAlbumCounts,
} from '#domain/shared-albums/state.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { SharedAlbumStateStore } from '#ports/shared-album-state-store.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import { readText } from './catalog-upkeep.ts';

export interface RebuildSharedAlbumsDeps {
  readonly state: SyncStateStore;
  readonly sharedState: SharedAlbumStateStore;
  readonly objects: ObjectStore;
  readonly now: () => number;
}

export interface RebuiltSharedAlbums {
  /** Albums whose list entry and items were written from their catalog lines. */
  readonly sharedAlbums: number;
  /** Albums the state store already had (left as they were). */
  readonly sharedAlbumsKept: number;
  readonly sharedItems: number;
  /** Items stored once with your library, recorded again among the library master's users. */
  readonly libraryReferences: number;
  /**
   * Items referencing a library object whose master neither the catalog nor the object's metadata
   * names: their record is written, but the library's mirror does not know an album shows it.
   */
  readonly unresolvedReferences: readonly string[];
}

const ms = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? undefined : at;
};

/** The album as far as its lines say; the next listing replaces it whole (its ctag is unknown). */
function albumOf(facts: SharedCatalogLine['sharedAlbum']): SharedAlbum {
  return {
    albumguid: facts.albumguid,
    name: facts.name,
    location: '',
    ctag: '',
    ownerDsid: facts.owner,
    sharingType: facts.sharingType,
    isPublic: false,
    ...(facts.generation === 'shared-collection'
      ? {
          collection: {
            database: facts.sharingType === 'owned' ? 'private' : 'shared',
            zoneName: facts.albumguid,
            ownerRecordName: facts.owner,
          },
        }
      : {}),
    ...(facts.ownerName === undefined ? {} : { ownerName: facts.ownerName }),
  };
}

function itemOf(
  line: SharedCatalogLine,
  library: LibraryReference | undefined,
  now: number,
): StoredSharedItem {
  const removedAt = ms(line.removedAt);
  const objectDeletedAt = ms(line.objectDeletedAt);
  const addedDate = ms(line.added);
  const captureDate = ms(line.captured);
  return {
    assetGuid: line.asset,
    fileName: line.fileName,
    key: line.key,
    ownsObject: line.references === undefined,
    ...(library === undefined ? {} : { library }),
    ...(line.caption === undefined ? {} : { caption: line.caption }),
    fileChecksum: line.fileChecksum,
    size: line.size,
    ...(line.sha256 === undefined ? {} : { sha256: line.sha256 }),
    ...(line.md5 === undefined ? {} : { md5: line.md5 }),
    rendition: line.renditionField ?? '',
    reduced: line.reduced,
    ...(line.width === undefined || line.height === undefined
      ? {}
      : { width: line.width, height: line.height }),
    // Unknown on lines written before they carried it: the next pass then refreshes likes and comments.
    changeTag: line.changeTag ?? '',
    ...(line.contributorId === undefined ? {} : { contributorDsid: line.contributorId }),
    ...(line.contributor === undefined ? {} : { contributorName: line.contributor }),
    ...(addedDate === undefined ? {} : { addedDate }),
    ...(captureDate === undefined ? {} : { captureDate }),
    likeCount: line.likes,
    comments: line.comments.map((c) => {
      const at = ms(c.at);
      return { kind: c.kind, text: c.text, author: c.author, ...(at === undefined ? {} : { at }) };
    }),
    ...(removedAt === undefined ? {} : { removedAt }),
    ...(objectDeletedAt === undefined ? {} : { objectDeletedAt }),
    archivedAt: now,
  };
}

/**
 * Rebuilds the Shared Albums' state from their catalog lines. `libraryMaster` names the master of
 * a library photo the rebuilt manifest knows (the catalog's records).
 */
export async function rebuildSharedAlbums(
  deps: RebuildSharedAlbumsDeps,
  libraryMaster: (zone: ZoneRef, assetRecordName: string) => string | undefined,
): Promise<RebuiltSharedAlbums> {
  const stored = await deps.sharedState.loadAlbums();
  const rebuilt: Record<string, StoredSharedAlbum> = {};
  let sharedAlbumsKept = 0;
  let sharedItems = 0;
  let libraryReferences = 0;
  const unresolvedReferences: string[] = [];
  const now = deps.now();
  for await (const object of deps.objects.list(SHARED_CATALOG_PREFIX)) {
    if (!object.key.endsWith('.jsonl')) continue;
    const text = await readText(deps.objects, object.key);
    if (text === undefined) continue;
    const lines = decodeSharedCatalog(text);
    const facts = lines[0]?.sharedAlbum;
    if (facts === undefined) continue;
    if (stored?.albums[facts.albumguid] !== undefined) {
      sharedAlbumsKept++;
      continue;
    }
    const items: StoredSharedItem[] = [];
    for (const line of lines) {
      let library: LibraryReference | undefined;
      if (line.references === 'library' && line.library !== undefined) {
        const master =
          libraryMaster(line.library.zone, line.library.asset) ?? (await masterFromMetadata(deps, line.key));
        if (master === undefined) unresolvedReferences.push(line.key);
        else
          library = {
            zone: line.library.zone,
            assetRecordName: line.library.asset,
            masterRecordName: master,
            kind: 'original',
          };
      }
      const item = itemOf(line, library, now);
      await restoreUses(deps, facts.albumguid, item);
      if (item.library !== undefined && item.removedAt === undefined) libraryReferences++;
      items.push(item);
    }
    // The uses first, then the records that rely on them (the archive step's order).
    for (const item of items) await deps.sharedState.putItem(facts.albumguid, item);
    sharedItems += items.length;
    // The album keeps its folder: the next pass files new items beside the old ones.
    await deps.state.claimKey(`${SHARED_ALBUMS_PREFIX}/${facts.folder}/`, `shared-album:${facts.albumguid}`);
    const goneAt = ms(facts.goneAt);
    rebuilt[facts.albumguid] = {
      album: albumOf(facts),
      folder: facts.folder,
      ...sharedAlbumCounts(items),
      ...(goneAt === undefined ? {} : { goneAt }),
    };
  }
  if (Object.keys(rebuilt).length > 0) await saveRebuilt(deps.sharedState, rebuilt);
  return {
    sharedAlbums: Object.keys(rebuilt).length,
    sharedAlbumsKept,
    sharedItems,
    libraryReferences,
    unresolvedReferences,
  };
}

/**
 * What the archive step recorded for the item's object: the key and checksum claims of an object
 * it stored, the item among the object's users, or among the library master's users. Only items
 * an album still shows use an object (a removed one let go of it, under `mirror`).
 */
async function restoreUses(
  deps: RebuildSharedAlbumsDeps,
  albumguid: string,
  item: StoredSharedItem,
): Promise<void> {
  if (item.objectDeletedAt !== undefined) return;
  const user = { zone: sharedAlbumZone(albumguid), assetRecordName: item.assetGuid };
  if (item.ownsObject) {
    await deps.state.claimKey(item.key, sharedClaimant(albumguid, item.assetGuid));
    await deps.state.claimKey(checksumClaim(item.fileChecksum), item.key);
  }
  if (item.removedAt !== undefined) return;
  if (item.library !== undefined) await deps.state.addMasterUser(item.library.masterRecordName, user);
  else await deps.state.addMasterUser(checksumClaim(item.fileChecksum), user);
}

/** The library master an object's own metadata names (`icloud-master`), with one HEAD. */
async function masterFromMetadata(deps: RebuildSharedAlbumsDeps, key: string): Promise<string | undefined> {
  const head = await deps.objects.head(key);
  const value = head?.metadata[METADATA_KEYS.master];
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Adds the rebuilt albums to the list (compare-and-set; albums a sync wrote meanwhile win). */
async function saveRebuilt(
  store: SharedAlbumStateStore,
  rebuilt: Readonly<Record<string, StoredSharedAlbum>>,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = await store.loadAlbums();
    const { revision, ...rest } = current ?? { albums: {}, revision: 0 };
    try {
      await store.saveAlbums({ ...rest, albums: { ...rebuilt, ...rest.albums } }, revision);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 4) throw error;
    }
  }
}
