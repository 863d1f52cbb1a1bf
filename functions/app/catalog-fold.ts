/**
 * The catalog's fold proper (app/catalog-upkeep.ts `foldCatalog`), once the journal is known to
 * hold objects: the lock, the journal's reading, the manifest entries, the shards and sidecars. A
 * bundle of its own beside the detector's `index.mjs` (`LAZY_MODULES`, infra/lambda-bundle.ts):
 * an idle run finds the journal empty (one listing) and never loads it; a run after work was
 * enqueued does, once per container. It throws no error class of its own: a failed fold is only
 * logged (app/detection-run.ts).
 */
import { mergeFacts } from '#domain/catalog/asset-facts.ts';
import {
  type AssetFold,
  foldFacts,
  groupByAsset,
  type JournalItem,
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
import { albumWalkUnderWay } from '#domain/detect/zone-checkpoint.ts';
import type { AssetRef, ManifestEntry } from '#domain/model/manifest.ts';
import { zoneId } from '#domain/model/zone.ts';
import type { ObjectStoreWithoutStreaming } from '#ports/object-store.ts';
import { mapAtMost } from '#shared/map-at-most.ts';
import {
  CATALOG_LEASE_MS,
  CATALOG_LOCK,
  CATALOG_SHARDS_AT_ONCE,
  type CatalogDeps,
  type CatalogFoldResult,
  MAX_JOURNAL_OBJECTS_PER_FOLD,
  putText,
  readText,
  writeJournal,
} from './catalog-upkeep.ts';

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
  albums: { readonly albumsFromStore: boolean; readonly walkedZones: ReadonlySet<string> },
) {
  const settled: Decided[] = [];
  const carried: JournalItem[][] = [];
  for (const fold of folds) {
    const entry = entries.get(fold.id);
    const open = unsettledItems(fold, entry, now, {
      albumsFromStore: albums.albumsFromStore,
      albumWalkUnderWay: albums.walkedZones.has(zoneId(fold.zone)),
    });
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
    // The facts of items older than the entry's change go beneath the record's: a late worker's
    // renewed item never puts an old edit's date or caption back (`supersededBy`).
    const { facts: newer, older } = foldFacts(fold, entry);
    const facts = mergeFacts(mergeFacts(older, old === undefined ? undefined : factsOfRecord(old)), newer);
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

/** The zones of `folds` whose album walk is still to record their albums (one state read per zone). */
async function zonesAwaitingAlbumWalk(deps: CatalogDeps, folds: readonly AssetFold[]) {
  const zones = new Map(folds.map((f) => [zoneId(f.zone), f.zone]));
  const waiting = new Set<string>();
  for (const [id, zone] of zones) {
    if (albumWalkUnderWay(await deps.state.loadZone(zone))) waiting.add(id);
  }
  return waiting;
}

/**
 * Folds the journal objects `journalKeys` (listed, at least one) into the catalog, under the
 * `catalog` lock; `locked` when another writer holds it.
 */
export async function foldJournal(
  deps: CatalogDeps,
  owner: string,
  journalKeys: string[],
): Promise<CatalogFoldResult> {
  const empty = {
    journalObjects: 0,
    assetsFolded: 0,
    assetsCarried: 0,
    shardsRewritten: 0,
    bytesRewritten: 0,
    sidecarsWritten: 0,
  };
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
    // With albums from the album store, the assets of a zone whose album walk is still to come wait
    // for it (`unsettledItems`): their entries are not read.
    const albumsFromStore = deps.albumsOfAssets !== undefined;
    const walkedZones = albumsFromStore ? await zonesAwaitingAlbumWalk(deps, folds) : new Set<string>();
    const found = await deps.state.getEntries(
      folds
        .filter((f) => !walkedZones.has(zoneId(f.zone)))
        .map((f) => ({ zone: f.zone, assetRecordName: f.assetRecordName })),
    );
    const entries = new Map(
      [...found.values()].map((e) => [
        `${e.zone.database}/${e.zone.ownerRecordName ?? '_'}/${e.zone.zoneName}/${e.assetRecordName}`,
        e,
      ]),
    );
    const { settled, carried } = decide(folds, entries, deps.now(), { albumsFromStore, walkedZones });
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
