/**
 * The download worker's part for one Shared Album (docs/protocol/shared-albums.md): reads the
 * album's items page by page (`limit` an end index), stores each new item's file under
 * `shared-albums/<Album>/<date>/<name>` right after its page came (URLs age), keeps the item's
 * contributor, likes and comments in state, marks items no longer in the album as removed, and
 * records the album's ctag as archived once every item is durable.
 *
 * Shared-album objects are not in the archive counters (those count the library's manifest, which
 * `status` and `verify` compare them with); `verify` counts them from the shared-album state.
 *
 * Requests to Apple per run: one `webgetassets` per 100 items of a changed album, one CDN GET per
 * new file, one `getcomments` per new or changed item. An item whose file another item already
 * stored (same Apple checksum) is not downloaded again: it references that object.
 */
import { Readable } from 'node:stream';
import { issuedBefore } from '#domain/model/manifest.ts';
import { errorText } from '#shared/redact.ts';
import type { MediaDownloader } from '../../ports/media-download.ts';
import type { ArchivingObjectStore, ObjectHead, ObjectMetadata } from '../../ports/object-store.ts';
import type { SharedAlbumItems } from '../../ports/shared-album-source.ts';
import type { SharedAlbumStateStore } from '../../ports/shared-album-state-store.ts';
import type { ArchiveStateStore } from '../../ports/sync-state-store.ts';
import type { ItemSlots } from '../archive/item-slots.ts';
import { putDownload } from '../archive/put-download.ts';
import { stateOrder } from '../archive/state-order.ts';
import { SHA256_METADATA_KEY, type VerifiedCopy, verifiedCopy } from '../archive/verified-copy.ts';
import { ConflictError, classifyError, DownloadUrlExpiredError } from '../errors.ts';
import type { AssetRef, ClaimOutcome } from '../model/manifest.ts';
import { contentTypeForUti } from '../model/uti.ts';
import { type DeletePolicy, deletionLimit } from '../plan/delete-policy.ts';
import { encodeHeaderValue, mtimeMetadata } from '../plan/object-metadata.ts';
import { GoneNotRecordedError, LibraryTwinPendingError } from './errors.ts';
import { sharedItemStep } from './item-step.ts';
import {
  findLibraryOriginal,
  type LibraryCopy,
  libraryTwinComing,
  releaseLibraryReference,
  SHARED_ALBUM_ZONE_PREFIX,
  sharedAlbumZone,
  TWIN_WAIT_DELIVERIES,
} from './library-copy.ts';
import {
  COLLECTION_RENDITION_LABEL,
  isReducedCopy,
  LEGACY_RENDITION_LABEL,
  type SharedAlbum,
  type SharedItem,
} from './model.ts';
import { sharedCatalogKey, sharedCatalogText } from './shared-catalog.ts';
import {
  albumFolder,
  checksumClaim,
  SHARED_ALBUMS_PREFIX,
  sharedClaimant,
  sharedItemKey,
} from './shared-keys.ts';
import {
  type LibraryReference,
  type StoredSharedAlbum,
  type StoredSharedItem,
  sharedAlbumCounts,
  sharedObjectCount,
} from './state.ts';

export { sharedAlbumZone } from './library-copy.ts';

/**
 * How long after its issue a gone item waits for the album list to record the album gone: the
 * detector enqueues it, then saves the list, all within its Lambda timeout (5 minutes), plus a
 * margin for clock skew. Past it, a list that does not record it means the save was lost.
 */
export const GONE_SAVE_WAIT_MS = 10 * 60 * 1000;

/** Items per `webgetassets` call (the range `[offset, offset + PAGE)`). */
export const SHARED_PAGE_ITEMS = 100;

/** Object metadata keys of shared-album objects (values percent-encoded UTF-8 where names). */
export const SHARED_METADATA_KEYS = {
  album: 'icloud-shared-album',
  albumGuid: 'icloud-shared-album-guid',
  owner: 'icloud-shared-owner',
  contributor: 'icloud-shared-contributor',
  asset: 'icloud-asset',
  /** `shared-album-copy`: Apple's reduced copy (photos ≤ 2,048 px, videos ≤ 720p), never the original. */
  rendition: 'icloud-rendition',
  renditionField: 'icloud-rendition-field',
  fileChecksum: 'icloud-checksum',
  dimensions: 'icloud-dimensions',
  fileName: 'icloud-filename',
} as const;

export interface SharedArchiveDeps {
  readonly source: SharedAlbumItems;
  readonly sharedState: SharedAlbumStateStore;
  /** Key claims, users of shared objects, object counts: the library's own machinery. */
  readonly state: ArchiveStateStore;
  readonly objects: ArchivingObjectStore;
  readonly downloader: MediaDownloader;
  readonly deletePolicy: DeletePolicy;
  /** Read each item's comments (one request per new or changed item). */
  readonly comments: boolean;
  readonly now: () => number;
  readonly signal?: AbortSignal;
  readonly pageItems?: number;
  /** Slots shared with the library's items: an item is stored (downloaded) in one. */
  readonly itemSlots?: ItemSlots;
  /**
   * Which delivery of the album's work this is (SQS's receive count). Absent: the work is not
   * redelivered, so a new item never waits for its library twin.
   */
  readonly delivery?: number;
  /**
   * Told what this delivery did before it throws for a retry (an item waiting for its library
   * twin, a transient fault, a sign-in iCloud demands): the items it stored stay counted, as the
   * redelivery skips them.
   */
  readonly onRetry?: (done: SharedAlbumResult) => void;
}

export interface SharedAlbumResult {
  readonly albumguid: string;
  readonly stored: number;
  readonly referenced: number;
  readonly updated: number;
  readonly removed: number;
  readonly objectsDeleted: number;
  /** Removals the mirror safety stop kept (nothing was deleted for them). */
  readonly deletionsRefused: number;
  readonly bytes: number;
  readonly failures: readonly { readonly subject: string; readonly reason: string }[];
  /**
   * Why a gone item did nothing: `handed-out-since` (the album was handed out live after it was
   * issued), `gone-not-recorded` (the detector's list save that records it gone was lost).
   */
  readonly skipped?: 'handed-out-since' | 'gone-not-recorded';
}

/** The users of one stored shared object, in the library's master-user records. */
const objectUsers = (fileChecksum: string) => checksumClaim(fileChecksum);
const itemRef = (albumguid: string, assetGuid: string): AssetRef => ({
  zone: sharedAlbumZone(albumguid),
  assetRecordName: assetGuid,
});

export async function archiveSharedAlbum(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  gone: boolean,
  /** The work message's `issuedAt`: a gone item older than the album's last live hand-out does nothing. */
  issuedAt?: number,
): Promise<SharedAlbumResult> {
  const result = {
    albumguid: album.albumguid,
    stored: 0,
    referenced: 0,
    updated: 0,
    removed: 0,
    objectsDeleted: 0,
    deletionsRefused: 0,
    bytes: 0,
    failures: [] as { subject: string; reason: string }[],
  };
  // The album's item records: as read now, then as this pass writes them (an item it records is
  // seen, so what was stored before stays apart from it). Its view, catalog lines and counts come
  // from them at the end, with no second read, unless something failed (a record write, say).
  const known = new Map((await deps.sharedState.loadItems(album.albumguid)).map((i) => [i.assetGuid, i]));
  const pageItems = deps.pageItems ?? SHARED_PAGE_ITEMS;
  // A new-generation album's name comes with its first page (its share record), not its listing.
  let firstPage = gone ? undefined : await deps.source.itemsPage(album, 0, pageItems);
  if (firstPage?.album) album = { ...album, ...firstPage.album };
  const stored = (await deps.sharedState.loadAlbums())?.albums[album.albumguid];
  if (gone && handedOutSince(deps, stored, issuedAt)) return { ...result, skipped: 'handed-out-since' };
  if (gone && stored?.goneAt === undefined) {
    // The detector enqueues a gone item before it saves the list that records it: acting on an
    // unrecorded one deletes a live album's files when that save was lost and the album is listed
    // again (same ctag, nothing handed out). Retried while the save may still land; then the
    // next listing decides (still missing: a new gone item, recorded).
    if (issuedAt !== undefined && deps.now() - issuedAt < GONE_SAVE_WAIT_MS)
      throw new GoneNotRecordedError(`shared album ${album.albumguid}: gone, not recorded yet`);
    return { ...result, skipped: 'gone-not-recorded' };
  }
  // An album keeps the folder it was first archived in, even when renamed: keys never move.
  const folder = stored?.folder ?? (await claimFolder(deps, album));
  // When the detector found it gone, as the list records it (a gone item acts only once it does):
  // its view and catalog lines say so from then on, the same time as its state.
  const goneAt = gone ? stored?.goneAt : undefined;
  const seen = new Set<string>();
  let retryable: unknown;
  let unreadable = false;
  // The records of a page's items, written together once the page's files are stored. An item
  // counts once its record is durable: a retry skips recorded items, and finds an item stored but
  // not recorded stored (its claim is not fresh: one HEAD) and counts it then.
  const pending: ArchivedItem[] = [];
  const writeRecords = async () => {
    const written = pending.splice(0);
    await deps.sharedState.putItems(
      album.albumguid,
      written.map((w) => w.record),
    );
    for (const w of written) {
      known.set(w.record.assetGuid, w.record);
      result[w.outcome]++;
      if (w.outcome === 'stored') result.bytes += w.record.size;
    }
  };
  if (!gone) {
    try {
      await archivePages();
    } catch (error) {
      // A pass stopped for a new sign-in: the items stored so far keep their record if they can;
      // if not, the retry finds their files stored (above). The sign-in error is the one to report.
      await writeRecords().catch(() => undefined);
      // What this delivery stored is counted now (the redelivery finds it done).
      deps.onRetry?.(result);
      throw error;
    }
  }
  function sortFailure(error: unknown, subjects: readonly string[]): void {
    const errorClass = classifyError(error);
    if (errorClass === 'reauth') throw error;
    if (errorClass === 'retryable') retryable ??= error;
    // Stored on the run record and printed: never Apple's secrets (signed URLs).
    else for (const subject of subjects) result.failures.push({ subject, reason: errorText(error) });
  }
  async function archivePages(): Promise<void> {
    for (let offset = 0; ; ) {
      const page = firstPage ?? (await deps.source.itemsPage(album, offset, offset + pageItems));
      firstPage = undefined;
      for (const problem of page.problems) {
        unreadable = true;
        result.failures.push({ subject: album.albumguid, reason: problem.message });
      }
      if (page.items.length === 0) break;
      // The page's new files claimed first, their items recorded as users of the objects in one
      // write, then stored: an item is a user before its file is stored or referenced, so a
      // `mirror` removal elsewhere never deletes an object an item is about to record. (An item
      // referencing a library original is a user already: `claimFile` looked again after that.)
      const claimed: ClaimedItem[] = [];
      for (const item of page.items) {
        if (seen.has(item.assetGuid)) continue;
        seen.add(item.assetGuid);
        try {
          const step = await claimItem(deps, album, folder, item, known);
          if (step === undefined) continue;
          if ('record' in step) pending.push(step);
          else claimed.push(step);
        } catch (error) {
          sortFailure(error, [item.assetGuid]);
        }
      }
      const users = await deps.state.addMasterUsers(claimed.map((c) => c.file.user)).then(
        () => true,
        (error: unknown) => {
          sortFailure(
            error,
            claimed.map((c) => c.item.assetGuid),
          );
          return false;
        },
      );
      for (const c of users ? claimed : []) {
        try {
          const store = () => storeItem(deps, album, c, offset, pageItems);
          pending.push(await (deps.itemSlots === undefined ? store() : deps.itemSlots.run(store)));
        } catch (error) {
          sortFailure(error, [c.item.assetGuid]);
        }
      }
      const recorded = pending.map((p) => p.record.assetGuid);
      await writeRecords().catch((error: unknown) => sortFailure(error, recorded));
      offset += page.items.length;
      // A page holds exactly the range asked for while items remain: a short one is the last,
      // unless items archived before are still unseen; then read on to an empty page rather
      // than take a short page for the end and those items for removed.
      const unseen = [...known.values()].some((i) => i.removedAt === undefined && !seen.has(i.assetGuid));
      if (page.items.length < pageItems && !unseen) break;
    }
  }
  // Items a page could not read are not known to be gone: no removal on such a pass. An album gone
  // under `keep` keeps its items as they were: the album's goneAt says it went, nothing is deleted.
  const keptWhole = gone && deps.deletePolicy.mode !== 'mirror';
  if (!unreadable && !keptWhole) await removeMissing(deps, album, known, seen, result);
  if (retryable !== undefined) {
    deps.onRetry?.(result);
    throw retryable;
  }
  const items =
    result.failures.length > 0 ? await deps.sharedState.loadItems(album.albumguid) : [...known.values()];
  await markArchived(deps, album, gone, { folder, ...sharedAlbumCounts(items) }, result.failures.length > 0);
  await writeAlbumView(deps, album, folder, items, goneAt);
  await writeText(
    deps,
    sharedCatalogKey(album.albumguid),
    sharedCatalogText(album, folder, items, goneAt),
    'application/x-ndjson',
    album.albumguid,
  );
  return result;
}

/**
 * A gone item issued before the album was handed out live again (it came back: a retry or a
 * redriven dead letter delivered late) is stale: under `mirror` it would delete a live album's
 * files, which nothing restores. Finding 52's order (archive/state-order.ts), the hand-out's time
 * standing for the state; a list not saved yet (the detector enqueues first) has no newer one.
 */
function handedOutSince(deps: SharedArchiveDeps, stored: StoredSharedAlbum | undefined, issuedAt?: number) {
  return issuedBefore(
    issuedAt === undefined ? undefined : stateOrder(issuedAt, deps.now()),
    stored?.enqueuedAt,
  );
}

/** The album's folder, unique among albums (a second "Family" gets the album's identity suffix). */
async function claimFolder(deps: SharedArchiveDeps, album: SharedAlbum): Promise<string> {
  const owner = `shared-album:${album.albumguid}`;
  for (const suffixed of [false, true]) {
    const folder = albumFolder(album.name, album.albumguid, suffixed);
    const claim = await deps.state.claimKey(`${SHARED_ALBUMS_PREFIX}/${folder}/`, owner);
    if (claim.claimed) return folder;
  }
  throw new ConflictError(`no folder free for shared album ${album.albumguid}`);
}

/**
 * An item's first step: nothing when unchanged; its record when only likes, comments or its
 * caption changed (the file is stored); otherwise its file claimed (`claimFile`), to be stored by
 * `storeItem` once the page's users are written. So is the file of an item that came back (under
 * `mirror` its removal took it off the file's users, and may have deleted the file), and of one
 * whose file changed (`leaveOldFile` first).
 */
async function claimItem(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  folder: string,
  item: SharedItem,
  known: Map<string, StoredSharedItem>,
): Promise<ArchivedItem | ClaimedItem | undefined> {
  const before = known.get(item.assetGuid);
  const step = sharedItemStep(item, before);
  if (step === 'none') return undefined;
  const inPlace = step === 'update' && before !== undefined ? before : undefined;
  // Before the comments: a wait costs Apple nothing but the album's page.
  const libraryCopy = inPlace !== undefined ? undefined : await libraryOriginalOrWait(deps, album, item);
  const comments = deps.comments
    ? await deps.source.comments(album, item.assetGuid)
    : (before?.comments ?? []);
  if (inPlace !== undefined) {
    // Likes, comments or the caption changed: the file is stored.
    const { caption: _caption, ...rest } = inPlace;
    return {
      outcome: 'updated',
      record: {
        ...rest,
        ...(item.caption === undefined ? {} : { caption: item.caption }),
        changeTag: item.changeTag,
        likeCount: item.likeCount,
        comments,
      },
    };
  }
  const avoid =
    before === undefined || before.fileChecksum === item.rendition.fileChecksum
      ? undefined
      : await leaveOldFile(deps, album, before, known);
  return { item, before, comments, file: await claimFile(deps, album, folder, item, libraryCopy, avoid) };
}

/** An item whose file is claimed (or found in the library), with the comments read for it. */
interface ClaimedItem {
  readonly item: SharedItem;
  /** Its record before (an item that came back, or whose file changed). */
  readonly before?: StoredSharedItem | undefined;
  readonly comments: StoredSharedItem['comments'];
  readonly file: FileClaim;
}

/**
 * An item whose file changed leaves its old one: it is no longer among that file's users. When no
 * other item uses it, the old checksum's claim is released (the item's key is about to hold the
 * new file, the old bytes a noncurrent version, the bucket's undo), so the old file shared again
 * is stored afresh, never counted against the new bytes. While another item uses it, its own
 * object stays as it is for them, owned by one of them (the key's claim moves, `handOver`), and
 * the key is returned: the new file goes under another.
 */
async function leaveOldFile(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  before: StoredSharedItem,
  known: Map<string, StoredSharedItem>,
): Promise<string | undefined> {
  if (before.library !== undefined || before.objectDeletedAt !== undefined) return undefined;
  const users = objectUsers(before.fileChecksum);
  await deps.state.removeMasterUser(users, itemRef(album.albumguid, before.assetGuid));
  if (!before.ownsObject) return undefined;
  const others = await deps.state.masterUsers(users);
  if (others.length === 0) {
    await deps.state.releaseKey(checksumClaim(before.fileChecksum), before.key);
    return undefined;
  }
  await handOver(deps, album.albumguid, before, others, known);
  return before.key;
}

/**
 * Moves the claim of an object an item no longer shows to another item recording it (finding 23:
 * the owner is the item the key's claim names), which then counts it. Each step is idempotent: a
 * retry after a crash part-way finishes it. None found (its item not recorded yet): nobody counts
 * it (the low, safe side of the mirror safety stop's total).
 */
async function handOver(
  deps: SharedArchiveDeps,
  albumguid: string,
  before: StoredSharedItem,
  others: readonly AssetRef[],
  known: Map<string, StoredSharedItem>,
): Promise<void> {
  for (const user of others) {
    const ownerAlbum = user.zone.zoneName.slice(SHARED_ALBUM_ZONE_PREFIX.length);
    const record = (await deps.sharedState.loadItems(ownerAlbum)).find(
      (i) => i.assetGuid === user.assetRecordName,
    );
    if (record?.key !== before.key || record.objectDeletedAt !== undefined) continue;
    await deps.state.releaseKey(before.key, sharedClaimant(albumguid, before.assetGuid));
    if (!(await deps.state.claimKey(before.key, sharedClaimant(ownerAlbum, record.assetGuid))).claimed)
      return;
    const marked: StoredSharedItem = { ...record, ownsObject: true };
    await deps.sharedState.putItem(ownerAlbum, marked);
    if (ownerAlbum === albumguid) known.set(marked.assetGuid, marked);
    else await saveAlbumCounts(deps, ownerAlbum);
    return;
  }
}

/** Stores (or references) a claimed item's file; returns the item's record. */
async function storeItem(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  { item, before, comments, file }: ClaimedItem,
  offset: number,
  pageItems: number,
): Promise<ArchivedItem> {
  const stored = await storeFile(deps, album, item, file, offset, pageItems);
  // Back where it was (an item that came back to its file): updated, not stored again.
  const back =
    before?.objectDeletedAt === undefined &&
    before?.key === stored.key &&
    before.ownsObject === stored.owns &&
    before.size === stored.size &&
    before.fileChecksum === item.rendition.fileChecksum;
  // Fields unknown are undefined: the stored document (JSON) leaves them out.
  const record: StoredSharedItem = {
    assetGuid: item.assetGuid,
    fileName: item.fileName,
    key: stored.key,
    ownsObject: stored.owns,
    library: stored.library,
    caption: item.caption,
    fileChecksum: item.rendition.fileChecksum,
    size: stored.size,
    ...stored.hashes,
    rendition: item.rendition.field,
    reduced: isReducedCopy(album),
    width: item.rendition.width,
    height: item.rendition.height,
    changeTag: item.changeTag,
    contributorDsid: item.contributorDsid,
    contributorName: item.contributorName,
    addedDate: item.addedDate,
    captureDate: item.captureDate,
    likeCount: item.likeCount,
    comments,
    archivedAt: deps.now(),
  };
  return { outcome: back ? 'updated' : stored.owns ? 'stored' : 'referenced', record };
}

/** An item this pass stored, referenced or updated, and the record that says so. */
interface ArchivedItem {
  readonly outcome: 'stored' | 'referenced' | 'updated';
  readonly record: StoredSharedItem;
}

/**
 * The archived library original the item is (new generation only, library-copy.ts). When there is
 * none yet but a library worker is archiving it (one first sync doing both), the item waits for it
 * during the first `TWIN_WAIT_DELIVERIES` deliveries (a retryable `LibraryTwinPendingError`: the
 * album's work comes back and references the original then); after that it stores its own copy.
 */
async function libraryOriginalOrWait(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  item: SharedItem,
): Promise<LibraryCopy | undefined> {
  if (isReducedCopy(album)) return undefined;
  const copy = await findLibraryOriginal(deps.state, deps.objects, item);
  if (copy !== undefined || deps.delivery === undefined || deps.delivery > TWIN_WAIT_DELIVERIES) return copy;
  if (await libraryTwinComing(deps.state, item))
    throw new LibraryTwinPendingError(
      `shared item ${item.assetGuid} waits for its library original (delivery ${deps.delivery})`,
    );
  return undefined;
}

/**
 * Where the item's file goes, and whose user the item becomes (written before the file is stored
 * or referenced: a crash in between only keeps an object longer). An item whose checksum is an
 * archived library original references that object (library-copy.ts), as a user of its master,
 * written here, if the original is still there once it is (else it stores its own copy);
 * otherwise the item claims its key and the checksum: the first item with an Apple checksum owns
 * the object, and a later identical item (the same photo posted to two albums) references it.
 */
type FileClaim =
  | { readonly kind: 'library'; readonly copy: LibraryCopy; readonly user: MasterUser }
  | {
      readonly kind: 'own';
      readonly me: string;
      readonly key: string;
      /** False after a fresh claim of the key: nothing can be stored there yet. */
      readonly mayBeStored: boolean;
      readonly checksum: ClaimOutcome;
      readonly user: MasterUser;
    };
type MasterUser = { readonly masterRecordName: string; readonly user: AssetRef };

async function claimFile(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  folder: string,
  item: SharedItem,
  copy: LibraryCopy | undefined,
  avoid: string | undefined,
): Promise<FileClaim> {
  const user = itemRef(album.albumguid, item.assetGuid);
  if (copy !== undefined) {
    // A user first, then a second look: a library purge reads the users once, then purges the
    // entry, then deletes. One that reads them after this write keeps the original; one whose
    // entry is purged by the second look leaves nothing to find: an own copy then (finding 41).
    const { masterRecordName } = copy.reference;
    await deps.state.addMasterUser(masterRecordName, user);
    if ((await findLibraryOriginal(deps.state, deps.objects, item))?.key === copy.key)
      return { kind: 'library', copy, user: { masterRecordName, user } };
    await deps.state.removeMasterUser(masterRecordName, user);
  }
  const me = sharedClaimant(album.albumguid, item.assetGuid);
  const keys = [sharedItemKey(folder, item, false), sharedItemKey(folder, item, true)];
  // A changed file whose old object other items still use goes beside it: a name of its own file.
  if (avoid !== undefined)
    keys.push(
      sharedItemKey(folder, { ...item, assetGuid: `${item.assetGuid}/${item.rendition.fileChecksum}` }, true),
    );
  let key = '';
  let claim: ClaimOutcome | undefined;
  for (key of keys.filter((k) => k !== avoid)) {
    claim = await deps.state.claimKey(key, me);
    if (claim.claimed) break;
  }
  if (!claim?.claimed) throw new ConflictError(`key ${key} is taken`);
  const checksum = await deps.state.claimKey(checksumClaim(item.rendition.fileChecksum), key);
  return {
    kind: 'own',
    me,
    key,
    // A fresh claim: nobody could have stored anything at the key yet (every writer claims first).
    mayBeStored: !claim.fresh,
    checksum,
    user: { masterRecordName: objectUsers(item.rendition.fileChecksum), user },
  };
}

/** Where a stored (or referenced) item's bytes are, and their hashes when known. */
interface StoredFile {
  readonly key: string;
  readonly owns: boolean;
  readonly size: number;
  readonly hashes?: VerifiedCopy;
  readonly library?: LibraryReference;
}

/** Stores the item's file once, as claimed (`claimFile`), its user already written. */
async function storeFile(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  item: SharedItem,
  file: FileClaim,
  offset: number,
  pageItems: number,
): Promise<StoredFile> {
  if (file.kind === 'library')
    return {
      key: file.copy.key,
      owns: false,
      size: file.copy.size,
      library: file.copy.reference,
      hashes: file.copy.hashes,
    };
  const { checksum, me } = file;
  let { key, mayBeStored } = file;
  let owns = true;
  if (!checksum.claimed) {
    const head = await deps.objects.head(checksum.owner);
    const stored = storedCopy(head, item);
    if (stored === undefined && head !== undefined && !holdsFile(head, item)) {
      // The key holds another file (its item's file changed, before those left the old checksum's
      // claim, or while this item was claiming): the claim moves here, to the key that stores it.
      await deps.state.releaseKey(checksumClaim(item.rendition.fileChecksum), checksum.owner);
      await deps.state.claimKey(checksumClaim(item.rendition.fileChecksum), key);
      return storeFile(
        deps,
        album,
        item,
        { ...file, checksum: { claimed: true, fresh: true } },
        offset,
        pageItems,
      );
    }
    // This item's own key stays unused: it references the checksum's object, or stores it.
    await deps.state.releaseKey(key, me);
    if (stored !== undefined) return { key: checksum.owner, owns: false, ...stored };
    // The item that claimed the checksum never stored it whole (it died, or its put is still under
    // way): this one stores it under the claimed key (its put supersedes whatever a failed put left
    // there). The object stays the claimant's, which records it owned when its pass ends, so it
    // is counted once (this item references it); unless mirror deleted the claimant's object.
    key = checksum.owner;
    owns = await takesOverKey(deps, key, me);
    mayBeStored = true;
  }
  // Stored by an earlier delivery of this item (or under the key taken over above) that died
  // before recording the item. Never what a failed put left (verified-copy.ts): that is stored again.
  const existing = mayBeStored ? storedCopy(await deps.objects.head(key), item) : undefined;
  if (existing !== undefined) return { key, owns, ...existing };
  let current = item;
  for (let attempt = 0; ; attempt++) {
    try {
      const download = await deps.downloader.open(current.rendition.downloadUrl, {
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
      // Counted against the size Apple's record states; the CDN's own Content-Length (an error
      // page's own length) only when it states none (docs/protocol/shared-albums.md#downloading).
      const stated = current.rendition.size;
      const put = await putDownload(deps.objects, key, download, {
        contentType: contentTypeForUti(current.rendition.uti),
        contentLength: stated > 0 ? stated : (download.contentLength ?? 0),
        metadata: metadataOf(album, current),
        lateMetadata: (digest) => ({ [SHA256_METADATA_KEY]: digest.sha256 }),
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
      return { key, owns, size: put.size, hashes: { sha256: put.sha256, md5: put.md5 } };
    } catch (error) {
      // URLs age: read the page again once for a fresh one (docs/protocol/shared-albums.md#downloading).
      if (!(error instanceof DownloadUrlExpiredError) || attempt > 0) throw error;
      const page = await deps.source.itemsPage(album, offset, offset + pageItems);
      const fresh = page.items.find((i) => i.assetGuid === item.assetGuid);
      if (fresh === undefined) throw error;
      current = fresh;
    }
  }
}

/**
 * Whether an item storing its file under the key another item claimed (`claimFile`) owns the
 * object: the item the key's claim names owns it, so one object is owned (counted) once, however
 * many items store it. The claim moves to this item only when its holder will never record the
 * object: mirror deleted the holder's object (its record says so), which before the checksum
 * claims were released with the object left the checksum naming that key.
 */
async function takesOverKey(deps: SharedArchiveDeps, key: string, me: string): Promise<boolean> {
  const claim = await deps.state.claimKey(key, me);
  if (claim.claimed) return true;
  const holder = await claimantRecord(deps, claim.owner);
  if (holder?.objectDeletedAt === undefined) return false;
  // Two writes: a crash in between leaves the key free, which the retry claims. A racing item
  // that claims it first owns the object instead.
  await deps.state.releaseKey(key, claim.owner);
  return (await deps.state.claimKey(key, me)).claimed;
}

/** The record of the item a key claim names, when it is a shared item with a record. */
async function claimantRecord(
  deps: SharedArchiveDeps,
  owner: string,
): Promise<(StoredSharedItem & { readonly albumguid: string }) | undefined> {
  const named = /^shared:([^/]+)\/(.+)$/.exec(owner);
  if (named === null) return undefined;
  const [, albumguid = '', assetGuid] = named;
  const record = (await deps.sharedState.loadItems(albumguid)).find((i) => i.assetGuid === assetGuid);
  return record === undefined ? undefined : { ...record, albumguid };
}

/**
 * The item's file in the object `head` describes when it is there whole and verified: its Apple
 * checksum, the size Apple states (0: not stated), the late SHA-256 and a consistent MD5
 * (verified-copy.ts).
 */
function storedCopy(
  head: ObjectHead | undefined,
  item: SharedItem,
): { size: number; hashes: VerifiedCopy } | undefined {
  if (head === undefined || !holdsFile(head, item)) return undefined;
  const stated = item.rendition.size > 0 ? item.rendition.size : undefined;
  const hashes = verifiedCopy(head, stated);
  return hashes === undefined ? undefined : { size: head.size, hashes };
}

/** The object is (a put of) the item's file: its Apple checksum. */
const holdsFile = (head: ObjectHead, item: SharedItem) =>
  head.metadata[SHARED_METADATA_KEYS.fileChecksum] === item.rendition.fileChecksum;

function metadataOf(album: SharedAlbum, item: SharedItem): ObjectMetadata {
  const k = SHARED_METADATA_KEYS;
  const at = item.captureDate ?? item.addedDate;
  const { width, height } = item.rendition;
  return {
    ...(at === undefined ? {} : mtimeMetadata(at)),
    [k.album]: encodeHeaderValue(album.name).slice(0, 512),
    [k.albumGuid]: album.albumguid,
    [k.owner]: encodeHeaderValue(
      [album.ownerName, album.ownerName ? `(${album.ownerDsid})` : album.ownerDsid].filter(Boolean).join(' '),
    ).slice(0, 256),
    ...(item.contributorDsid || item.contributorName
      ? {
          [k.contributor]: encodeHeaderValue(
            [item.contributorName, item.contributorDsid && `(${item.contributorDsid})`]
              .filter(Boolean)
              .join(' '),
          ).slice(0, 256),
        }
      : {}),
    [k.asset]: item.assetGuid,
    [k.rendition]: isReducedCopy(album) ? LEGACY_RENDITION_LABEL : COLLECTION_RENDITION_LABEL,
    [k.renditionField]: item.rendition.field,
    [k.fileChecksum]: item.rendition.fileChecksum,
    ...(width !== undefined && height !== undefined ? { [k.dimensions]: `${width}x${height}` } : {}),
    [k.fileName]: encodeHeaderValue(item.fileName).slice(0, 512),
  };
}

/**
 * Items stored before and not listed now left the album. `keep` records it; `mirror` deletes an
 * object once no item uses it, unless the run would delete more than the safety stop allows.
 */
async function removeMissing(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  known: Map<string, StoredSharedItem>,
  seen: ReadonlySet<string>,
  result: { removed: number; objectsDeleted: number; deletionsRefused: number },
): Promise<void> {
  const missing = [...known.values()].filter((i) => i.removedAt === undefined && !seen.has(i.assetGuid));
  if (missing.length === 0) return;
  const now = deps.now();
  let mayDelete = deps.deletePolicy.mode === 'mirror';
  if (mayDelete) {
    // The safety stop weighs the whole archive: the library's counted objects and the albums' items.
    const objects =
      (await deps.state.getCounters()).objects + sharedObjectCount(await deps.sharedState.loadAlbums());
    const limit = deletionLimit(deps.deletePolicy, objects);
    if (missing.length > limit) {
      mayDelete = false;
      result.deletionsRefused += missing.length;
    }
  }
  for (const item of missing) {
    let deletedAt: number | undefined;
    const ref = itemRef(album.albumguid, item.assetGuid);
    if (mayDelete && item.library !== undefined) {
      if (await releaseLibraryReference(deps.state, deps.objects, ref, { ...item, library: item.library })) {
        result.objectsDeleted++;
        deletedAt = now;
      }
    } else if (mayDelete) {
      const users = objectUsers(item.fileChecksum);
      await deps.state.removeMasterUser(users, ref);
      if ((await deps.state.masterUsers(users)).length === 0) {
        await deleteSharedObject(deps, album.albumguid, item, known, now);
        result.objectsDeleted++;
        deletedAt = now;
      }
    }
    const removed: StoredSharedItem = {
      ...item,
      removedAt: now,
      ...(deletedAt === undefined ? {} : { objectDeletedAt: deletedAt }),
    };
    await deps.sharedState.putItem(album.albumguid, removed);
    known.set(removed.assetGuid, removed);
    result.removed++;
  }
}

/**
 * Deletes a shared object no item uses any more, and marks it deleted where it is counted: on the
 * record of the item its key's claim names (the owner, `takesOverKey`), which may be another
 * item of this album or of another album, whose count is then saved again. Then the checksum's
 * claim is released, so the same file shared again is stored afresh, by the item that stores it
 * (the key's claim stays: the key is never reused for another file). Each step is idempotent and
 * they run in this order, so a retry after a crash part-way finds what is left to do.
 */
async function deleteSharedObject(
  deps: SharedArchiveDeps,
  albumguid: string,
  item: StoredSharedItem,
  known: Map<string, StoredSharedItem>,
  now: number,
): Promise<void> {
  const me = sharedClaimant(albumguid, item.assetGuid);
  const claim = await deps.state.claimKey(item.key, me);
  await deps.objects.delete(item.key);
  if (!claim.claimed) {
    const owner = await claimantRecord(deps, claim.owner);
    if (owner !== undefined && owner.key === item.key && owner.objectDeletedAt === undefined) {
      const { albumguid: ownerAlbum, ...record } = owner;
      const marked: StoredSharedItem = { ...record, objectDeletedAt: now };
      await deps.sharedState.putItem(ownerAlbum, marked);
      if (ownerAlbum === albumguid) known.set(marked.assetGuid, marked);
      else await saveAlbumCounts(deps, ownerAlbum);
    }
  }
  await deps.state.releaseKey(checksumClaim(item.fileChecksum), item.key);
}

/** Saves another album's counts again from its item records (its object count changed). */
async function saveAlbumCounts(deps: SharedArchiveDeps, albumguid: string): Promise<void> {
  const counts = sharedAlbumCounts(await deps.sharedState.loadItems(albumguid));
  await updateAlbumEntry(deps, albumguid, (before) =>
    before === undefined ? undefined : { ...before, ...counts },
  );
}

/** Records the ctag whose items are now all durable (compare-and-set, merged with the detector's writes). */
async function markArchived(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  gone: boolean,
  counts: Pick<StoredSharedAlbum, 'folder' | 'itemCount' | 'reducedCount' | 'objectCount'>,
  failed: boolean,
): Promise<void> {
  await updateAlbumEntry(deps, album.albumguid, (before) => ({
    ...(before ?? { album }),
    ...counts,
    ...(gone ? {} : { album, archivedCtag: album.ctag }),
    // Items left unstored (spec: given up for this run): detection hands the album out again.
    // Cleared (`undefined`, which the stored JSON drops) by a pass that stored every item.
    retry: failed ? { tries: (before?.retry?.tries ?? -1) + 1, lastTriedAt: deps.now() } : undefined,
  }));
}

/**
 * Replaces one album's entry in the album list (compare-and-set by revision, re-read on a
 * conflict, the rest of the list as stored); `change` returning undefined writes nothing.
 */
async function updateAlbumEntry(
  deps: SharedArchiveDeps,
  albumguid: string,
  change: (before: StoredSharedAlbum | undefined) => StoredSharedAlbum | undefined,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await deps.sharedState.loadAlbums();
    const entry = change(current?.albums[albumguid]);
    if (entry === undefined) return;
    // The rest of the list as stored (its revision goes beside it).
    const { revision = 0, albums = {}, ...rest } = current ?? {};
    try {
      await deps.sharedState.saveAlbums({ ...rest, albums: { ...albums, [albumguid]: entry } }, revision);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  throw new ConflictError(`the shared album list kept changing while ${albumguid} was recorded`);
}

/**
 * The album's view beside its files (`shared-albums/<Album>/album.json`): name, owner, whether the
 * files are reduced copies, and every item with its key (its own, or the object of the identical
 * item it references), contributor, likes and comments. Makes the archive readable without state
 * (fields absent when unknown: JSON drops `undefined`).
 */
async function writeAlbumView(
  deps: SharedArchiveDeps,
  album: SharedAlbum,
  folder: string,
  items: readonly StoredSharedItem[],
  goneAt: number | undefined,
): Promise<void> {
  const view = {
    albumguid: album.albumguid,
    name: album.name,
    owner: album.ownerDsid,
    sharingType: album.sharingType,
    goneAt: goneAt === undefined ? undefined : new Date(goneAt).toISOString(),
    ownerName: album.ownerName,
    ...(album.collection === undefined
      ? {
          rendition: LEGACY_RENDITION_LABEL,
          note: 'Shared albums keep reduced copies (photos at most 2048 px, videos at most 720p), not originals.',
        }
      : {
          generation: 'shared-collection',
          rendition: COLLECTION_RENDITION_LABEL,
          note: 'A new-generation shared album (a CloudKit SharedCollection zone): files as the zone serves them.',
        }),
    items: items
      .slice()
      .sort((a, b) => (a.addedDate ?? 0) - (b.addedDate ?? 0) || a.assetGuid.localeCompare(b.assetGuid))
      .map((i) => ({
        assetGuid: i.assetGuid,
        key: i.key,
        references: i.ownsObject ? undefined : i.key,
        inLibrary: i.library === undefined ? undefined : true,
        fileName: i.fileName,
        contributor: i.contributorName ?? i.contributorDsid ?? '',
        caption: i.caption,
        addedDate: i.addedDate === undefined ? undefined : new Date(i.addedDate).toISOString(),
        likes: i.likeCount,
        comments: i.comments,
        removedAt: i.removedAt === undefined ? undefined : new Date(i.removedAt).toISOString(),
      })),
  };
  await writeText(
    deps,
    albumViewKey(folder),
    `${JSON.stringify(view, null, 2)}\n`,
    'application/json',
    album.albumguid,
  );
}

async function writeText(
  deps: SharedArchiveDeps,
  key: string,
  text: string,
  contentType: string,
  albumguid: string,
): Promise<void> {
  const body = Buffer.from(text, 'utf8');
  await deps.objects.putStream(key, Readable.from([body]), {
    contentType,
    contentLength: body.length,
    metadata: { [SHARED_METADATA_KEYS.albumGuid]: albumguid },
  });
}

/** `shared-albums/<folder>/album.json`. */
export function albumViewKey(folder: string): string {
  return `${SHARED_ALBUMS_PREFIX}/${folder}/album.json`;
}
