/**
 * One simulator, one signed-in session and one local archive for a whole e2e test file, with
 * the views those tests compare: the archived objects, the manifest, the zone tokens, and the
 * requests the simulator counted.
 *
 *   const h = await startPipelineHarness({ assets: 20, seed: 3 });   // in beforeAll
 *   await h.sync();                                                   // runLocalSync
 *   const step = await h.step({ op: 'favorite', assetRecordName });   // mutate, reset stats, sync
 *   await h.stop();                                                   // in afterAll
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SharedAlbumsOption } from '#compose/local.ts';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { isDerivedKey } from '#domain/catalog/derived-keys.ts';
import type { ArchiveCounters, ManifestEntry } from '#domain/model/manifest.ts';
import type { ZoneSyncState } from '#domain/model/sync-state.ts';
import { type LocalSyncOptions, runLocalSync, type SyncSummary } from '#local/local-sync.ts';
import { ALBUM_VIEWS_PREFIX } from '#shared/env-names.ts';
import { createLogger } from '#shared/logger.ts';
import type { SimulatorHandle, SimulatorOptions } from '#simulator/src/index.ts';
import { type SignedIn, signInToSimulator } from './icloud-login.ts';
import type { ArchivedObjectView, TruthAsset } from './local-archive.ts';
import { type ControlClient, controlClient, type SimStats, startTestSimulator } from './simulator.ts';

/** The ground truth as `GET /__sim/library` gives it, with the fields these tests read. */
export interface TruthAssetDetail extends TruthAsset {
  readonly zone: string;
  readonly zoneOwner: 'owner' | 'member';
  readonly kind: string;
  readonly captureTime: number;
  readonly albumRecordNames: readonly string[];
  readonly trashReason?: number;
  /** Shared Library assets: the userRecordName of who added it. */
  readonly contributors?: readonly string[];
  readonly deletedBy?: string;
  readonly versions: readonly (TruthAsset['versions'][number] & { readonly fileChecksum: string })[];
}

export interface ArchivedObjectWithEtag extends ArchivedObjectView {
  /** Changes when the object is written again: proof that nothing was re-uploaded. */
  readonly etag: string;
}

/** What the archive holds at one moment: objects (with metadata), manifest, zone states, counters. */
export interface ArchiveSnapshot {
  /** The photo objects (album views left out: see `views`). */
  readonly objects: readonly ArchivedObjectWithEtag[];
  /** The album views under `albums/`, key -> etag. */
  readonly views: Readonly<Record<string, string>>;
  readonly entries: readonly ManifestEntry[];
  readonly zones: readonly ZoneSyncState[];
  readonly counters: ArchiveCounters;
  /** SHA-256 of every archived object's bytes (from the metadata the pipeline wrote). */
  readonly digests: Set<string>;
  entry(assetRecordName: string): ManifestEntry | undefined;
  object(key: string): ArchivedObjectWithEtag | undefined;
}

/** One mutation followed by one sync, with what it cost. */
export interface SyncStep<T = MutateResult> {
  readonly mutation: T;
  readonly summary: SyncSummary;
  readonly stats: SimStats;
  readonly before: ArchiveSnapshot;
  readonly after: ArchiveSnapshot;
}

export interface MutateResult {
  readonly op: string;
  readonly assets: readonly TruthAssetDetail[];
  readonly updated: readonly TruthAssetDetail[];
}

export interface PipelineHarness {
  readonly sim: SimulatorHandle;
  readonly control: ControlClient;
  readonly dataDir: string;
  readonly signedIn: SignedIn;
  sync(
    options?: Partial<Omit<LocalSyncOptions, 'dataDir' | 'endpoint' | 'store' | 'logger'>>,
  ): Promise<SyncSummary>;
  truth(): Promise<TruthAssetDetail[]>;
  snapshot(): Promise<ArchiveSnapshot>;
  mutate(mutation: unknown): Promise<MutateResult>;
  /** Snapshot, mutate, reset the simulator's counters, sync, snapshot. */
  step(
    mutation: unknown,
    options?: Partial<Omit<LocalSyncOptions, 'dataDir' | 'endpoint' | 'store' | 'logger'>>,
  ): Promise<SyncStep>;
  /** Resets the counters, syncs, and returns both (no mutation). */
  measuredSync(
    options?: Partial<Omit<LocalSyncOptions, 'dataDir' | 'endpoint' | 'store' | 'logger'>>,
  ): Promise<{ summary: SyncSummary; stats: SimStats }>;
  stop(): Promise<void>;
}

/** `changes/database` + `changes/zone` requests: what detection cost. */
export function detectionRequests(stats: SimStats): number {
  return (stats.requests['changes/database'] ?? 0) + (stats.requests['changes/zone'] ?? 0);
}

/** Downloads from the CDN. */
export function cdnRequests(stats: SimStats): number {
  return stats.requests.cdn ?? 0;
}

/**
 * Sync options of a test about the library alone: Shared Albums (on by default, and the
 * simulator's account has some) cost a request and store objects of their own; their test is
 * test/e2e/pipeline-shared-albums.test.ts.
 */
export const LIBRARY_ONLY = { sharedAlbums: { enabled: false, cadenceMs: 0 } } as const;

export async function startPipelineHarness(
  input: SimulatorOptions & { readonly sharedAlbums?: SharedAlbumsOption },
): Promise<PipelineHarness> {
  const { sharedAlbums, ...options } = input;
  const logger = createLogger({ level: 'SILENT' });
  const sim = await startTestSimulator(options);
  const control = controlClient(sim);
  const dir = await mkdtemp(join(tmpdir(), 'icloud-s3-e2e-'));
  const dataDir = join(dir, 'data');
  let signedIn: SignedIn;
  try {
    signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  } catch (error) {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  // Library tests count every object: Shared Albums (on by default) only where a test asks for them.
  const shared = sharedAlbums ?? LIBRARY_ONLY.sharedAlbums;
  const sync: PipelineHarness['sync'] = (extra = {}) =>
    runLocalSync({ dataDir, ...signedIn, logger, sharedAlbums: shared, ...extra });
  const truth = async () => (await control.library<{ assets: TruthAssetDetail[] }>()).assets;
  const snapshot = () => readSnapshot(dataDir);
  const mutate = (mutation: unknown) => control.mutate<MutateResult>(mutation);
  const measuredSync: PipelineHarness['measuredSync'] = async (extra) => {
    await control.resetStats();
    const summary = await sync(extra);
    return { summary, stats: await control.stats() };
  };
  return {
    sim,
    control,
    dataDir,
    signedIn,
    sync,
    truth,
    snapshot,
    mutate,
    measuredSync,
    step: async (mutation, extra) => {
      const before = await snapshot();
      const result = await mutate(mutation);
      const { summary, stats } = await measuredSync(extra);
      return { mutation: result, summary, stats, before, after: await snapshot() };
    },
    stop: async () => {
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function readSnapshot(dataDir: string): Promise<ArchiveSnapshot> {
  const stack = await openLocalAwsStack({ dataDir });
  try {
    const objects: ArchivedObjectWithEtag[] = [];
    const views: Record<string, string> = {};
    for await (const listed of stack.objects.list('')) {
      if (listed.key.startsWith(ALBUM_VIEWS_PREFIX)) {
        views[listed.key] = listed.etag;
        continue;
      }
      // The archived files: the catalog, album views and sidecars are derived and change with them.
      if (isDerivedKey(listed.key)) continue;
      const head = await stack.objects.head(listed.key);
      if (head !== undefined) {
        objects.push({ key: listed.key, size: head.size, metadata: head.metadata, etag: head.etag });
      }
    }
    const entries: ManifestEntry[] = [];
    for await (const entry of stack.state.entries()) entries.push(entry);
    const zones = await stack.state.loadZones();
    const counters = await stack.state.getCounters();
    const digests = new Set(
      objects.map((o) => o.metadata['icloud-sha256']).filter((d): d is string => d !== undefined),
    );
    return {
      objects,
      views,
      entries,
      zones,
      counters,
      digests,
      entry: (name) => entries.find((e) => e.assetRecordName === name),
      object: (key) => objects.find((o) => o.key === key),
    };
  } finally {
    await stack.stop();
  }
}

/** `a ∪ b`. */
export function union<T>(...sets: Iterable<T>[]): Set<T> {
  const out = new Set<T>();
  for (const set of sets) for (const item of set) out.add(item);
  return out;
}

/** `key -> etag` of every object: equal before and after means nothing was written, renamed or removed. */
export function objectEtags(snapshot: ArchiveSnapshot): Record<string, string> {
  return Object.fromEntries(snapshot.objects.map((o) => [o.key, o.etag]));
}
