/**
 * Writes the album views in the bucket (docs/archive-layout.md#8-albums): for every album whose view
 * is stale (detection saw a change) or whose place moved (it, or a folder above it, was renamed or
 * moved), the JSON view and the playlist listing its photos' object keys in album order; the old
 * view goes when the album moved or was deleted. An album whose content is unchanged is not
 * written again, so a run with nothing new writes nothing: one Query of the album list.
 *
 * An album whose view cannot be written stays stale and does not stop the others: the pass writes
 * every other album, then rejects naming how many failed (the caller logs it; the next pass
 * tries the album again).
 *
 * A view lists the photos archived so far. While some member has no archived object yet (queued,
 * or not archived at all) the album stays stale, and a later pass rewrites it once its content
 * changes. Once its changes settled, such an album rests (`view.recheck`): its members are read
 * again only when due on the backoff of the photos awaiting a URL (the settle hour's passes stand
 * for that schedule's quick tries: then 1, 2, 4, 8, 16 hours apart, then daily), or at once when
 * detection marks it again. A member given up for good cost a full read of its album every run.
 */
import { albumViewPaths, folderNames } from '#domain/albums/album-paths.ts';
import { type AlbumViewItem, renderAlbumView, viewItem } from '#domain/albums/album-view.ts';
import { nextLookupAt, UNREADABLE_POLICY } from '#domain/detect/unreadable-records.ts';
import { ConflictError } from '#domain/errors.ts';
import type { AlbumViewState, StoredAlbum, StoredAlbumInput } from '#domain/model/album.ts';
import { assetId } from '#domain/model/manifest.ts';
import { zoneId } from '#domain/model/zone.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { ObjectStoreWithoutStreaming } from '#ports/object-store.ts';
import type { DetectionStateStore } from '#ports/sync-state-store.ts';
import { mapAtMost } from '#shared/map-at-most.ts';
import { errorText } from '#shared/redact.ts';

export interface AlbumViewDeps {
  readonly albums: AlbumStore;
  readonly state: DetectionStateStore;
  readonly objects: ObjectStoreWithoutStreaming;
  /**
   * How long after an album was marked stale its view may still change because the photos' work
   * is still on the queue. `0` (default) when the queue is drained before the pass (the local
   * runtime); the deployed pipeline, whose workers run beside it, keeps an album stale (and
   * re-renders it each pass, writing only what changed) until this long after its last change.
   */
  readonly settleMs?: number;
  readonly now?: () => number;
  /** Albums written at once; `ALBUM_VIEWS_AT_ONCE` by default. */
  readonly albumsAtOnce?: number;
}

export interface AlbumViewResult {
  /** Albums the store knows, folders and deleted ones included. */
  readonly albums: number;
  /** Views written (new, changed or moved). */
  readonly written: number;
  /** Old views removed (album deleted, renamed or moved). */
  readonly removed: number;
  /** Albums whose view still misses photos not archived yet. */
  readonly waiting: number;
}

const EXTENSIONS = ['.json', '.m3u8'] as const;

/**
 * Albums whose view is written at once by default (its two objects side by side, then its state):
 * the detector's Lambda, billed by its duration, waited on ~16 albums' two PUTs and a PutItem one
 * album at a time over the network. The local run writes one at a time (`albumsAtOnce`): there
 * the views share the CLI's thread and the local S3's with the catalog fold, which is the run's
 * tail, and four at once delayed the fold's first shard by ~40 ms for views that ended within
 * the fold anyway (docs/benchmarks.md §0, "The tail and start of a local run").
 */
export const ALBUM_VIEWS_AT_ONCE = 4;

function inputOf(album: StoredAlbum): StoredAlbumInput {
  const { updatedAt: _updatedAt, revision: _revision, ...input } = album;
  return input;
}

async function putText(objects: ObjectStoreWithoutStreaming, key: string, text: string, contentType: string) {
  await objects.putBytes(key, Buffer.from(text, 'utf8'), { contentType });
}

/** Both objects of a view in one request (DeleteObjects on S3). */
function removeView(objects: ObjectStoreWithoutStreaming, path: string): Promise<void> {
  return objects.deleteMany(EXTENSIONS.map((extension) => `${path}${extension}`));
}

/** Saves the album's new view state; a lost race (detection marked it meanwhile) is left for the next pass. */
async function saveViewState(albums: AlbumStore, album: StoredAlbum, next: StoredAlbumInput) {
  try {
    await albums.saveAlbum(next, album.revision);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}

/** When a resting album is read again: undefined when not resting (read at every pass). */
function recheckAt(album: StoredAlbum, rest: AlbumViewState['recheck']): number | undefined {
  return rest === undefined ? undefined : nextLookupAt({ name: album.recordName, noUrl: true, ...rest });
}

/**
 * The album's photos in album order, and how many members have no archived object yet. The
 * entries in batched reads (BatchGetItem, 100 a request): one GetItem after the other made a
 * 60,000-photo album a risk to the detector's timeout.
 */
async function itemsOf(deps: AlbumViewDeps, album: StoredAlbum) {
  const members = await deps.albums.albumMembers(album);
  const refs = members.map((m) => ({ zone: album.zone, assetRecordName: m.assetRecordName }));
  const entries = await deps.state.getEntries(refs);
  const items: AlbumViewItem[] = [];
  let waiting = 0;
  for (const ref of refs) {
    const entry = entries.get(assetId(ref));
    const item = entry === undefined ? undefined : viewItem(entry);
    if (item !== undefined) items.push(item);
    else if (entry === undefined || entry.status === 'pending') waiting += 1;
  }
  return { items, waiting };
}

export async function refreshAlbumViews(deps: AlbumViewDeps): Promise<AlbumViewResult> {
  const now = deps.now ?? Date.now;
  const settleMs = deps.settleMs ?? 0;
  const all = await deps.albums.loadAlbums();
  const byZone = new Map<string, StoredAlbum[]>();
  for (const album of all) byZone.set(zoneId(album.zone), [...(byZone.get(zoneId(album.zone)) ?? []), album]);
  let written = 0;
  let removed = 0;
  let waiting = 0;
  const failures: unknown[] = [];
  for (const zoneAlbums of byZone.values()) {
    const paths = albumViewPaths(zoneAlbums);
    // An old view whose path another album now has (two albums swapped names) is that album's now.
    const current = new Set(paths.values());
    const dropOld = async (old: string) => {
      if (current.has(old)) return;
      await removeView(deps.objects, old);
      removed += 1;
    };
    const writeView = async (album: StoredAlbum): Promise<void> => {
      const path = paths.get(album.recordName);
      if (path === undefined) {
        // Deleted, a folder, or a smart album: no view, and none left behind.
        if (album.view === undefined && !album.viewStale) return;
        if (album.view !== undefined) await dropOld(album.view.path);
        const { view: _view, ...rest } = inputOf(album);
        await saveViewState(deps.albums, album, { ...rest, viewStale: false });
        return;
      }
      if (!album.viewStale && album.view?.path === path) return;
      const rest = album.view?.path === path ? album.view.recheck : undefined;
      if (now() < (recheckAt(album, rest) ?? now())) {
        waiting += 1;
        return;
      }
      const { items, waiting: missing } = await itemsOf(deps, album);
      const view = renderAlbumView(album, folderNames(album, zoneAlbums), path, items);
      const moved = album.view !== undefined && album.view.path !== path;
      const changed = moved || album.view?.hash !== view.hash;
      const settled = rest !== undefined || now() - album.updatedAt >= settleMs;
      // Unchanged and still settling: nothing to write, and the mark's time must stay as it is
      // (a write moves it: an album waiting for a photo never settled, and was read every run).
      if (!changed && !settled) {
        if (missing > 0) waiting += 1;
        return;
      }
      if (changed) {
        await Promise.all([
          putText(deps.objects, `${path}.json`, view.json, 'application/json; charset=utf-8'),
          putText(deps.objects, `${path}.m3u8`, view.m3u8, 'audio/x-mpegurl; charset=utf-8'),
        ]);
        written += 1;
      }
      // Written first, removed after: a crash in between leaves two views, never none.
      if (moved && album.view !== undefined) await dropOld(album.view.path);
      if (missing > 0) waiting += 1;
      // The state last: an album whose objects are not both written stays stale, and the next
      // pass writes it again (same bytes).
      // Still missing photos once settled: rest, and read it again on the backoff. Only where
      // runs are scheduled and reads billed (`settleMs`); a local run reads its albums each time.
      const recheck =
        missing > 0 && settled && settleMs > 0
          ? { tries: rest === undefined ? UNREADABLE_POLICY.quickTries : rest.tries + 1, lastTriedAt: now() }
          : undefined;
      await saveViewState(deps.albums, album, {
        ...inputOf(album),
        viewStale: missing > 0 || (changed && settleMs > 0) || !settled,
        view: { path, hash: view.hash, ...(recheck === undefined ? {} : { recheck }) },
      });
    };
    // Albums are independent objects and state items: several at once (ALBUM_VIEWS_AT_ONCE). One
    // that fails stays stale and is reported once the others are written: it must not keep every
    // album after it stale run after run.
    await mapAtMost(zoneAlbums, deps.albumsAtOnce ?? ALBUM_VIEWS_AT_ONCE, (album) =>
      writeView(album).catch((error: unknown) => void failures.push(error)),
    );
  }
  if (failures.length > 0) {
    throw new AggregateError(
      failures,
      `${failures.length} album view(s) not written, the others were: ${errorText(failures[0])}`,
    );
  }
  return { albums: all.length, written, removed, waiting };
}
