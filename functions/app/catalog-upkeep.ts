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
import { randomUUID } from 'node:crypto';
import { loadAlbumIndex } from '#domain/albums/album-index.ts';
import { mergeFacts } from '#domain/catalog/asset-facts.ts';
import {
  type AssetFold,
  CATALOG_JOURNAL_PREFIX,
  groupByAsset,
  type JournalItem,
  journalItemOf,
  journalSchema,
  unsettledItems,
} from '#domain/catalog/catalog-journal.ts';
import {
  type CatalogRecord,
  factsOfRecord,
  recordId,
  toCatalogRecord,
} from '#domain/catalog/catalog-record.ts';
import {
  CATALOG_SHARD_CONTENT_TYPE,
  CATALOG_SHARD_PREFIX,
  decodeShard,
  encodeShard,
  shardKey,
  shardOf,
} from '#domain/catalog/catalog-shard.ts';
import { buildXmpSidecar, sidecarKeyOf, XMP_CONTENT_TYPE } from '#domain/catalog/xmp-sidecar.ts';
import type { AssetRef, ManifestEntry } from '#domain/model/manifest.ts';
import { isLibraryWorkItem, type WorkMessage } from '#domain/model/work.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { ObjectStoreWithoutStreaming } from '#ports/object-store.ts';
import type { DetectionStateStore } from '#ports/sync-state-store.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import type { Logger } from '#shared/logger.ts';
import { mapAtMost } from '#shared/map-at-most.ts';

export const CATALOG_LOCK = 'catalog';
/** Journal objects one fold reads at most (oldest first): bounds a fold's memory and time; the rest waits. */
export const MAX_JOURNAL_OBJECTS_PER_FOLD = 500;
const CATALOG_LEASE_MS = 10 * 60 * 1000;
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

/** Journal object keys sort by the time they were written. */
function journalKey(at: number): string {
  const stamp = new Date(at).toISOString().replace(/[-:.]/g, '');
  return `${CATALOG_JOURNAL_PREFIX}${stamp}-${randomUUID()}.json`;
}

async function putText(
  objects: ObjectStoreWithoutStreaming,
  key: string,
  text: string,
  contentType: string,
): Promise<number> {
  const bytes = Buffer.from(text, 'utf8');
  await objects.putBytes(key, bytes, { contentType });
  return bytes.length;
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

async function writeJournal(
  objects: ObjectStoreWithoutStreaming,
  items: readonly JournalItem[],
  at: number,
): Promise<void> {
  if (items.length === 0) return;
  await putText(objects, journalKey(at), JSON.stringify({ v: 1, items }), 'application/json');
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

interface Decided {
  /** Settled (or expired with an entry): the record is rewritten from the entry. */
  readonly fold: AssetFold;
  readonly entry: ManifestEntry | undefined;
}

/** Splits the journal's assets into those to fold now and those to carry (each its unsettled items). */
function decide(
  folds: readonly AssetFold[],
  entries: ReadonlyMap<string, ManifestEntry>,
  now: number,
  albumsFromStore: boolean,
) {
  const settled: Decided[] = [];
  const carried: JournalItem[][] = [];
  for (const fold of folds) {
    const entry = entries.get(fold.id);
    const open = unsettledItems(fold, entry, now, albumsFromStore);
    if (open.length > 0) carried.push(open);
    // Done, or work that never finished: record what the manifest says, if anything.
    else if (entry !== undefined) settled.push({ fold, entry });
  }
  return { settled, carried };
}

async function sidecarAlbumNames(deps: CatalogDeps, records: readonly CatalogRecord[]) {
  if (deps.albumNames === undefined) return new Map<string, string>();
  const wanted = [...new Set(records.flatMap((r) => r.albums))];
  return wanted.length === 0 ? new Map<string, string>() : deps.albumNames(wanted);
}

/**
 * A fold that rewrites more shards than this lists the shards first (one request per 1,000) and
 * reads only those that exist: a small library's first sync touches hundreds of shards that do
 * not exist yet, each a GET answered 404 otherwise.
 */
const LIST_SHARDS_FROM = 3;

/**
 * The shards that exist, when listing them pays; undefined: read each shard to find out. The fold
 * holds the catalog lock, and only its holder writes shards, so the listing stays true meanwhile.
 */
async function existingShards(
  objects: ObjectStoreWithoutStreaming,
  shardsToFold: number,
): Promise<Set<string> | undefined> {
  if (shardsToFold < LIST_SHARDS_FROM) return undefined;
  const keys = new Set<string>();
  for await (const object of objects.list(CATALOG_SHARD_PREFIX)) keys.add(object.key);
  return keys;
}

/** Rewrites one shard for `decided` (if its bytes change) and their sidecars (if theirs do). */
async function foldShard(
  deps: CatalogDeps,
  shard: string,
  decided: readonly Decided[],
  albumsOf: ((ref: AssetRef) => readonly string[]) | undefined,
  existing: ReadonlySet<string> | undefined,
) {
  const key = shardKey(shard);
  const missing = existing !== undefined && !existing.has(key);
  const before = missing ? '' : ((await readText(deps.objects, key)) ?? '');
  const records = new Map(decodeShard(before).map((r) => [recordId(r), r]));
  const changed: { before?: CatalogRecord; after: CatalogRecord }[] = [];
  for (const { fold, entry } of decided) {
    const old = records.get(fold.id);
    if (entry === undefined) continue;
    const facts = mergeFacts(old === undefined ? undefined : factsOfRecord(old), fold.facts);
    const albums = albumsOf === undefined ? entry.albums : albumsOf(entry);
    const after = toCatalogRecord({ ...entry, albums }, facts);
    records.set(fold.id, after);
    changed.push({ ...(old === undefined ? {} : { before: old }), after });
  }
  const text = encodeShard(records.values());
  let bytes = 0;
  if (text !== before) bytes = await putText(deps.objects, key, text, CATALOG_SHARD_CONTENT_TYPE);
  let sidecars = 0;
  if (deps.xmpSidecars) {
    const names = await sidecarAlbumNames(
      deps,
      changed.flatMap((c) => (c.before === undefined ? [c.after] : [c.before, c.after])),
    );
    const albumNamesOf = (r: CatalogRecord) =>
      r.albums.map((a) => names.get(a)).filter((n): n is string => n !== undefined);
    for (const { before: old, after } of changed) {
      const original = after.versions.find((v) => v.kind === 'original');
      const xmp = buildXmpSidecar(after, albumNamesOf(after));
      if (original === undefined || xmp === undefined) continue;
      const previous = old === undefined ? undefined : buildXmpSidecar(old, albumNamesOf(old));
      const sameOriginal = old?.versions.find((v) => v.kind === 'original')?.key === original.key;
      // `previous` is rebuilt with today's album names: a deleted album's name is gone from it,
      // though the stored sidecar still lists it. Another album list always rewrites.
      const sameAlbums = old !== undefined && old.albums.join('\n') === after.albums.join('\n');
      if (previous === xmp && sameOriginal && sameAlbums) continue;
      await putText(deps.objects, sidecarKeyOf(original.key), xmp, XMP_CONTENT_TYPE);
      sidecars++;
    }
  }
  return { rewritten: text !== before, bytes, sidecars };
}

/**
 * Folds the journal into the catalog. One writer at a time (the `catalog` lock); a fold that finds
 * the lock taken does nothing (the holder, or the next fold, does the work).
 */
export async function foldCatalog(deps: CatalogDeps, owner: string): Promise<CatalogFoldResult> {
  const empty = {
    journalObjects: 0,
    assetsFolded: 0,
    assetsCarried: 0,
    shardsRewritten: 0,
    bytesRewritten: 0,
    sidecarsWritten: 0,
  };
  const journalKeys: string[] = [];
  for await (const object of deps.objects.list(CATALOG_JOURNAL_PREFIX)) journalKeys.push(object.key);
  if (journalKeys.length === 0) return { outcome: 'nothingToFold', ...empty };
  const lock = await deps.state.acquireLock(CATALOG_LOCK, owner, CATALOG_LEASE_MS);
  if (!lock.acquired) return { outcome: 'locked', ...empty };
  try {
    journalKeys.sort();
    journalKeys.splice(MAX_JOURNAL_OBJECTS_PER_FOLD);
    // Independent small objects: read several at once, kept in key order.
    const texts = await mapAtMost(journalKeys, CATALOG_SHARDS_AT_ONCE, (key) => readText(deps.objects, key));
    const items: JournalItem[] = [];
    for (const text of texts) {
      if (text !== undefined) items.push(...journalSchema.parse(JSON.parse(text)).items);
    }
    // In the order detection read them (a carried item keeps its time, so a newer journal wins).
    items.sort((a, b) => a.at - b.at);
    const folds = groupByAsset(items);
    const found = await deps.state.getEntries(
      folds.map((f) => ({ zone: f.zone, assetRecordName: f.assetRecordName })),
    );
    const entries = new Map(
      [...found.values()].map((e) => [
        `${e.zone.database}/${e.zone.ownerRecordName ?? '_'}/${e.zone.zoneName}/${e.assetRecordName}`,
        e,
      ]),
    );
    const { settled, carried } = decide(folds, entries, deps.now(), deps.albumsOfAssets !== undefined);
    const byShard = new Map<string, Decided[]>();
    for (const d of settled) {
      const shard = shardOf({ zone: d.fold.zone, assetRecordName: d.fold.assetRecordName });
      byShard.set(shard, [...(byShard.get(shard) ?? []), d]);
    }
    // The album index (the state table) and the shard listing (the bucket) do not depend on
    // each other: asked side by side.
    const [albumsOf, existing] = await Promise.all([
      settled.length === 0 ? undefined : deps.albumsOfAssets?.(),
      existingShards(deps.objects, byShard.size),
    ]);
    const shards = [...byShard].sort(([a], [b]) => (a < b ? -1 : 1));
    // Shards are independent objects: several at once, so a first sync's hundreds of small
    // read-and-write round trips overlap. A failure starts no further shard, lets those under
    // way finish, and fails the fold before the journal is touched (the next fold redoes it).
    const folded = await mapAtMost(shards, CATALOG_SHARDS_AT_ONCE, ([shard, decided]) =>
      foldShard(deps, shard, decided, albumsOf, existing),
    );
    let shardsRewritten = 0;
    let bytesRewritten = 0;
    let sidecarsWritten = 0;
    for (const result of folded) {
      if (result.rewritten) shardsRewritten++;
      bytesRewritten += result.bytes;
      sidecarsWritten += result.sidecars;
    }
    // The carried items go back before the objects that held them are deleted.
    await writeJournal(deps.objects, carried.flat(), deps.now());
    // One request per 1,000 keys (a fold reads at most MAX_JOURNAL_OBJECTS_PER_FOLD). Any subset
    // deleted is as safe as a prefix: what is left is folded again, to the same bytes.
    await deps.objects.deleteMany(journalKeys);
    const result = {
      outcome: 'folded' as const,
      journalObjects: journalKeys.length,
      assetsFolded: settled.length,
      assetsCarried: carried.length,
      shardsRewritten,
      bytesRewritten,
      sidecarsWritten,
    };
    deps.logger.info('catalog folded', { ...result });
    return result;
  } finally {
    await deps.state.releaseLock(lock.lease).catch(() => false);
  }
}
