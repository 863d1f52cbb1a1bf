/**
 * Keeps the catalog in the bucket current (docs/archive-layout.md#9-the-catalog), in two steps:
 *
 * - `journalingQueue`: before detection enqueues work, one journal object lists the assets it
 *   touches and what detection read about them (per enqueue, never per asset: nothing is added to
 *   the download path).
 * - `foldCatalog`: the single writer (it holds the `catalog` lock) reads the journal, reads the
 *   manifest entries of its assets in batches, and rewrites only the shards whose records changed,
 *   for the assets whose work the workers have finished; the rest stays in the journal for the
 *   next fold. Shards are written before the journal objects are deleted, so a crash anywhere
 *   only repeats work, and repeating it writes the same bytes.
 */
import { loadAlbumIndex } from '#domain/albums/album-index.ts';
import { CATALOG_JOURNAL_PREFIX, journalItemOf } from '#domain/catalog/catalog-journal.ts';
import type { AssetRef } from '#domain/model/manifest.ts';
import { isLibraryWorkItem, type WorkMessage } from '#domain/model/work.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { ObjectStoreWithoutStreaming } from '#ports/object-store.ts';
import type { DetectionStateStore } from '#ports/sync-state-store.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import type { Logger } from '#shared/logger.ts';
import { writeJournal } from './catalog-journal-writes.ts';

export { journalLateWork, putText, writeJournal } from './catalog-journal-writes.ts';

export const CATALOG_LOCK = 'catalog';
/** Journal objects one fold reads at most (oldest first): bounds a fold's memory and time; the rest waits. */
export const MAX_JOURNAL_OBJECTS_PER_FOLD = 500;
export const CATALOG_LEASE_MS = 10 * 60 * 1000;
/**
 * Shards a fold reads and rewrites at once (each a small object: memory stays a few shards).
 * 16 rather than 8: the writes are bound by the CPU of the client and the S3 server, so more at
 * once gains little, but never lost: 264 shard-sized PUTs into the local S3, alone, 0.68-0.70 s
 * both at load 3, 1.09-1.33 s against 1.11-1.41 s at load 7-9; in first syncs (load 5-7) the
 * shard writes took 0.47-1.32 s (median 0.97) against 0.86-1.43 s (median 1.09). 32 measured no
 * better than 16 (docs/benchmarks.md §0).
 */
export const CATALOG_SHARDS_AT_ONCE = 16;

export interface CatalogDeps {
  readonly state: DetectionStateStore;
  readonly objects: ObjectStoreWithoutStreaming;
  readonly logger: Logger;
  readonly now: () => number;
  /** Write `<original>.xmp` sidecars (off by default). */
  readonly xmpSidecars?: boolean;
  /** Names of albums by record name, for the sidecars' keywords (unknown ones are left out). */
  readonly albumNames?: (recordNames: readonly string[]) => Promise<ReadonlyMap<string, string>>;
  /**
   * The albums of every asset by catalog id, from the album store (which knows the memberships a
   * first sync walks, not only those that arrive as changes); without it, the manifest's.
   */
  readonly albumsOfAssets?: () => Promise<(ref: AssetRef) => readonly string[]>;
}

export interface CatalogFoldResult {
  /** `locked`: another writer holds the catalog; nothing was done. */
  readonly outcome: 'folded' | 'nothingToFold' | 'locked';
  readonly journalObjects: number;
  /** Assets whose records were brought up to date. */
  readonly assetsFolded: number;
  /** Assets whose work is not finished yet: kept in the journal. */
  readonly assetsCarried: number;
  readonly shardsRewritten: number;
  readonly bytesRewritten: number;
  readonly sidecarsWritten: number;
}

/** The names of albums by record name, from the album store (deleted albums and folders left out). */
export function albumNamesFrom(albums: AlbumStore): NonNullable<CatalogDeps['albumNames']> {
  return async (recordNames) => {
    const wanted = new Set(recordNames);
    return new Map(
      (await albums.loadAlbums())
        .filter((a) => wanted.has(a.recordName) && !a.deleted && a.kind !== 'folder')
        .map((a) => [a.recordName, a.name]),
    );
  };
}

/** Every asset's albums (live albums, smart albums and folders left out), read once per fold from the album store. */
export function albumsOfAssetsFrom(albums: AlbumStore): NonNullable<CatalogDeps['albumsOfAssets']> {
  return async () => {
    const index = await loadAlbumIndex(albums);
    return (ref) => index.albumsOf(ref).map((a) => a.recordName);
  };
}

/** The text of an object, or undefined when there is none. */
export async function readText(
  objects: ObjectStoreWithoutStreaming,
  key: string,
): Promise<string | undefined> {
  const found = await objects.getStream(key);
  if (found === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of found.body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `queue`, journalling each enqueue in the bucket first (one object per call). Journal first: a
 * crash before the enqueue leaves an entry whose work never comes (dropped after
 * `JOURNAL_RETENTION_MS`); the other order could leave archived work the catalog never hears of.
 */
export function journalingQueue(
  queue: WorkQueue,
  objects: ObjectStoreWithoutStreaming,
  now: () => number,
): WorkQueue {
  return {
    async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
      const at = now();
      await writeJournal(
        objects,
        // Shared Albums keep their own state and album.json: the catalog is the library's.
        messages.flatMap((m) => m.items.filter(isLibraryWorkItem).map((item) => journalItemOf(item, at))),
        at,
      );
      return queue.enqueue(messages);
    },
  };
}

/**
 * Folds the journal into the catalog. One writer at a time (the `catalog` lock); a fold that finds
 * the lock taken does nothing (the holder, or the next fold, does the work). An empty journal (an
 * idle run's) costs one listing; the fold itself is loaded only when there is something to fold
 * (app/catalog-fold.ts, a lazy bundle in the detector).
 */
export async function foldCatalog(deps: CatalogDeps, owner: string): Promise<CatalogFoldResult> {
  const journalKeys: string[] = [];
  for await (const object of deps.objects.list(CATALOG_JOURNAL_PREFIX)) journalKeys.push(object.key);
  if (journalKeys.length === 0) {
    return {
      outcome: 'nothingToFold',
      journalObjects: 0,
      assetsFolded: 0,
      assetsCarried: 0,
      shardsRewritten: 0,
      bytesRewritten: 0,
      sidecarsWritten: 0,
    };
  }
  return (await import('./catalog-fold.ts')).foldJournal(deps, owner, journalKeys);
}
