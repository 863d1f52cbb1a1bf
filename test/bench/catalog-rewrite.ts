/**
 * Bench section `catalog`: what keeping the catalog in the bucket costs for a large library
 * (docs/archive-layout.md#9-the-catalog). A generated manifest of N assets (originals, Live Photo
 * videos, edits, locations and the odd title) is folded into the catalog over the in-memory
 * stores, no servers; then small changes (one favourite, one caption, ten album additions) are
 * journalled and folded, and the bytes each fold rewrites are counted against the whole catalog.
 */
import { createHash } from 'node:crypto';
import { foldCatalog, journalingQueue } from '#app/catalog-upkeep.ts';
import type { JournalItem } from '#domain/catalog/catalog-journal.ts';
import { CATALOG_SHARD_PREFIX } from '#domain/catalog/catalog-shard.ts';
import type { AssetOnlyChange } from '#domain/model/asset.ts';
import type { ArchivedVersion, ManifestEntry, ManifestEntryInput } from '#domain/model/manifest.ts';
import { WORK_MESSAGE_VERSION, type WorkItem } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import { createLogger } from '#shared/logger.ts';
import { InMemoryObjectStore } from '../fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '../fakes/in-memory-sync-state-store.ts';

export interface CatalogRewriteRow {
  readonly change: string;
  readonly assetsChanged: number;
  readonly shardsRewritten: number;
  readonly bytesRewritten: number;
  /** Bytes rewritten per changed asset. */
  readonly bytesPerAsset: number;
  /** Share of the whole catalog rewritten, percent. */
  readonly percentOfCatalog: number;
  readonly foldMs: number;
}

export interface CatalogFigures {
  readonly assets: number;
  readonly shards: number;
  readonly catalogBytes: number;
  readonly firstFoldMs: number;
  readonly rows: readonly CatalogRewriteRow[];
}

const ZONE: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const DAY = 24 * 60 * 60 * 1000;

const hex = (seed: string, length: number) =>
  createHash('sha256').update(seed).digest('hex').slice(0, length);

/** A plausible manifest entry and its facts for asset `i`. */
function generated(i: number): { input: ManifestEntryInput; item: JournalItem } {
  const name = `${hex(`asset${i}`, 8).toUpperCase()}-${hex(`a${i}`, 4).toUpperCase()}-4${hex(`b${i}`, 3).toUpperCase()}-A${hex(`c${i}`, 3).toUpperCase()}-${hex(`d${i}`, 12).toUpperCase()}`;
  const master = Buffer.from(hex(`master${i}`, 21), 'hex').toString('base64url');
  const captureTime =
    Date.UTC(2012, 0, 1) + Math.floor((i * 97_003) % (13 * 365)) * DAY + (i % 86_400) * 1000;
  const day = new Date(captureTime).toISOString().slice(0, 10);
  const live = i % 3 === 0;
  const edited = i % 10 === 0;
  const version = (kind: ArchivedVersion['kind'], ext: string, size: number): ArchivedVersion => ({
    kind,
    key: `library/${day.slice(0, 4)}/${day}/IMG_${String(i % 10_000).padStart(4, '0')}${kind === 'adjusted' ? '-edited' : ''}${ext}`,
    size,
    sha256: hex(`sha${i}${kind}`, 64),
    md5: hex(`md5${i}${kind}`, 32),
    fileChecksum: Buffer.from(hex(`ck${i}${kind}`, 42), 'hex').toString('base64'),
    archivedAt: captureTime + DAY,
    etag: hex(`etag${i}${kind}`, 32),
  });
  const versions = [
    version('original', '.HEIC', 1_500_000 + (i % 3_000_000)),
    ...(live ? [version('live', '_HEVC.MOV', 2_000_000)] : []),
    ...(edited ? [version('adjusted', '.JPG', 1_800_000)] : []),
  ];
  const input: ManifestEntryInput = {
    zone: ZONE,
    assetRecordName: name,
    masterRecordName: master,
    assetChangeTag: `t${i}`,
    masterChangeTag: `m${i}`,
    status: 'archived',
    flags: { isFavorite: i % 20 === 0, isHidden: false, isDeleted: false },
    albums: i % 4 === 0 ? [`album-${i % 40}`] : [],
    versions,
    deletions: [],
  };
  const item: JournalItem = {
    zone: ZONE,
    asset: name,
    at: 0,
    expect: { type: 'changeTag', assetChangeTag: `t${i}` },
    facts: {
      fileName: `IMG_${String(i % 10_000).padStart(4, '0')}.HEIC`,
      mediaType: 'photo',
      captureTime,
      timeZoneOffsetSeconds: 3600,
      description: {
        width: 4032,
        height: 3024,
        location: { latitude: 48.8 + (i % 100) / 1000, longitude: 2.3 + (i % 77) / 1000, altitude: 35 },
        ...(i % 25 === 0 ? { title: `Holiday ${i % 50}` } : {}),
      },
    },
  };
  return { input, item };
}

/** A queue that drops what it is given: the bench measures the catalog, not the workers. */
const nowhere: WorkQueue = {
  enqueue: async (messages) => ({ requested: messages.length, sent: messages.length }),
};

export async function measureCatalogRewrite(options: {
  readonly assets: number;
  readonly log: (line: string) => void;
}): Promise<CatalogFigures> {
  const now = () => 1_750_000_000_000;
  const state = new InMemorySyncStateStore({ now });
  const objects = new InMemoryObjectStore({ now });
  const deps = { state, objects, logger: createLogger({ level: 'SILENT' }), now };
  const entries: ManifestEntry[] = [];
  const items: JournalItem[] = [];
  for (let i = 0; i < options.assets; i++) {
    const { input, item } = generated(i);
    entries.push(await state.putEntry(input, 0));
    items.push(item);
  }
  // The whole library as one journal (what a first sync's runs write, page by page).
  const journal = JSON.stringify({ v: 1, items });
  const { Readable } = await import('node:stream');
  await objects.putStream(
    'catalog/journal/00000000T000000000Z-first.json',
    Readable.from([Buffer.from(journal)]),
    {
      contentType: 'application/json',
      contentLength: Buffer.byteLength(journal),
    },
  );
  options.log(`catalog: folding ${options.assets} generated assets`);
  let started = performance.now();
  const first = await foldCatalog(deps, 'bench');
  const firstFoldMs = Math.round(performance.now() - started);
  let catalogBytes = 0;
  let shards = 0;
  for await (const object of objects.list(CATALOG_SHARD_PREFIX)) {
    catalogBytes += object.size;
    shards++;
  }
  if (first.assetsFolded !== options.assets)
    throw new Error(`folded ${first.assetsFolded} of ${options.assets}`);

  const queue = journalingQueue(nowhere, objects, now);
  const rows: CatalogRewriteRow[] = [];
  /** Applies `change` to entries `picked` the way a worker would, journalled as detection would. */
  const measure = async (
    change: string,
    picked: readonly number[],
    apply: (entry: ManifestEntry) => { input: ManifestEntryInput; item: WorkItem },
  ) => {
    const work: WorkItem[] = [];
    for (const index of picked) {
      const entry = entries[index] as ManifestEntry;
      const { input, item } = apply(entry);
      entries[index] = await state.putEntry(input, entry.revision);
      work.push(item);
    }
    await queue.enqueue([{ v: WORK_MESSAGE_VERSION, runId: 'bench', issuedAt: now(), items: work }]);
    started = performance.now();
    const result = await foldCatalog(deps, 'bench');
    rows.push({
      change,
      assetsChanged: picked.length,
      shardsRewritten: result.shardsRewritten,
      bytesRewritten: result.bytesRewritten,
      bytesPerAsset: Math.round(result.bytesRewritten / picked.length),
      percentOfCatalog: Math.round((result.bytesRewritten / catalogBytes) * 10_000) / 100,
      foldMs: Math.round(performance.now() - started),
    });
  };
  const assetOnly = (entry: ManifestEntry, tag: string, extra: Partial<AssetOnlyChange>): WorkItem => ({
    type: 'assetOnly',
    change: {
      zone: entry.zone,
      assetRecordName: entry.assetRecordName,
      masterRecordName: entry.masterRecordName,
      assetChangeTag: tag,
      isFavorite: entry.flags.isFavorite,
      isHidden: false,
      isDeleted: false,
      isExpunged: false,
      versions: [],
      ...extra,
    },
  });
  const toInput = (entry: ManifestEntry): ManifestEntryInput => {
    const { updatedAt: _u, revision: _r, ...input } = entry;
    return input;
  };
  await measure('one favourite', [1234], (entry) => ({
    input: { ...toInput(entry), flags: { ...entry.flags, isFavorite: true }, assetChangeTag: 'fav' },
    item: assetOnly(entry, 'fav', { isFavorite: true }),
  }));
  await measure('one new caption', [4321], (entry) => ({
    input: { ...toInput(entry), assetChangeTag: 'cap' },
    item: assetOnly(entry, 'cap', { description: { title: 'A new title', caption: 'Written on the phone' } }),
  }));
  await measure(
    'ten photos added to an album',
    Array.from({ length: 10 }, (_, k) => 17 + k * 997),
    (entry) => ({
      input: { ...toInput(entry), albums: [...entry.albums, 'album-new'] },
      item: {
        type: 'albumMembership',
        zone: entry.zone,
        assetRecordName: entry.assetRecordName,
        albumRecordName: 'album-new',
        present: true,
      },
    }),
  );
  return { assets: options.assets, shards, catalogBytes, firstFoldMs, rows };
}
