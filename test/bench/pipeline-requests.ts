/**
 * Requests to Apple per scenario (section 1): the one-machine pipeline (`runLocalSync`) against a
 * simulator of a real-sized library, counted twice (the simulator's `/__sim/stats`, server side,
 * and the run summary's `appleRequests`, client side), beside what a tool without sync tokens
 * pays to learn the same thing: a full `records/query` walk of the library, measured by running
 * one through `CloudKitAssetSource.enumeratePage` after each scenario.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { type LocalSyncOptions, runLocalSync, type SyncSummary } from '#local/local-sync.ts';
import type { EnumerationCursor } from '#ports/asset-source.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient } from '#test/helpers/simulator.ts';
import { startSimulatorProcess } from './support/simulator-process.ts';
import { mib, seconds } from './support/units.ts';

export interface RequestCounts {
  readonly total: number;
  readonly byEndpoint: Readonly<Record<string, number>>;
}

export interface BaselineFigures extends RequestCounts {
  /** Photos the walk returned. */
  readonly assets: number;
  readonly seconds: number;
}

export interface ScenarioFigures {
  readonly scenario: string;
  readonly outcome: SyncSummary['outcome'];
  /** Server side (`/__sim/stats`): every request the run made, CDN downloads included. */
  readonly simulator: RequestCounts;
  /** The same without CDN downloads: what it cost to learn what changed. */
  readonly metadataRequests: number;
  readonly cdnDownloads: number;
  /** Client side (`SyncSummary.appleRequests`). */
  readonly summary: RequestCounts;
  readonly assetsArchived: number;
  readonly assetsUpdated: number;
  readonly versionsArchived: number;
  readonly bytesArchivedMiB: number;
  readonly seconds: number;
  /** A full enumeration of the library at the same moment. */
  readonly baseline: BaselineFigures;
}

export interface RequestFigures {
  readonly libraryAssets: number;
  readonly mediaScale: number;
  readonly scenarios: readonly ScenarioFigures[];
}

interface LibraryAsset {
  readonly zone: string;
  readonly zoneOwner: 'owner' | 'member';
  readonly assetRecordName: string;
  readonly isHidden: boolean;
  readonly isDeleted: boolean;
}

const logger = createLogger({ level: 'SILENT' });
const MAX_ENUMERATION_PAGES = 10_000;
const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };

/** Walks the whole library index of PrimarySync page by page, as a tool without tokens must. */
async function enumerateLibrary(signedIn: SignedIn, control: ControlClient): Promise<BaselineFigures> {
  const icloud = await openIcloudAdapters({ ...signedIn, logger });
  await control.resetStats();
  const started = performance.now();
  let assets = 0;
  let cursor: EnumerationCursor | undefined;
  try {
    for (let page = 0; ; page++) {
      if (page >= MAX_ENUMERATION_PAGES) throw new Error('the enumeration did not finish');
      const result = await icloud.source.enumeratePage(PRIMARY, cursor);
      assets += result.changes.filter((c) => c.type === 'asset').length;
      cursor = result.cursor;
      if (result.done) break;
    }
  } finally {
    await icloud.session.save();
  }
  const stats = await control.stats();
  return {
    total: stats.total,
    byEndpoint: stats.requests,
    assets,
    seconds: seconds(performance.now() - started),
  };
}

function withoutCdn(counts: Readonly<Record<string, number>>): number {
  return Object.entries(counts).reduce((sum, [endpoint, n]) => sum + (endpoint === 'cdn' ? 0 : n), 0);
}

export async function measurePipelineRequests(options: {
  readonly assets: number;
  readonly mediaScale: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}): Promise<RequestFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'icloud-s3-bench-requests-'));
  options.log(`requests: starting a simulator with ${options.assets} assets`);
  const sim = await startSimulatorProcess({
    assets: options.assets,
    seed: options.seed,
    mediaScale: options.mediaScale,
  });
  const scenarios: ScenarioFigures[] = [];
  try {
    const control = controlClient(sim);
    const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
    const scenario = async (
      name: string,
      change: () => Promise<void>,
      extra: Partial<Pick<LocalSyncOptions, 'sharedAlbums'>> = {},
    ) => {
      await change();
      options.log(`requests: ${name}`);
      await control.resetStats();
      const summary = await runLocalSync({ dataDir: join(dir, 'data'), ...signedIn, logger, ...extra });
      const stats = await control.stats();
      if (summary.assets.failed > 0 || summary.deadLetters > 0)
        throw new Error(
          `${name}: ${summary.assets.failed} assets failed, ${summary.deadLetters} dead letters`,
        );
      options.log(`requests: full enumeration after ${name}`);
      const baseline = await enumerateLibrary(signedIn, control);
      scenarios.push({
        scenario: name,
        outcome: summary.outcome,
        simulator: { total: stats.total, byEndpoint: stats.requests },
        metadataRequests: withoutCdn(stats.requests),
        cdnDownloads: stats.requests['cdn'] ?? 0,
        summary: { total: summary.appleRequestsTotal, byEndpoint: summary.appleRequests },
        assetsArchived: summary.assets.archived,
        assetsUpdated: summary.assets.updated,
        versionsArchived: summary.versionsArchived,
        bytesArchivedMiB: mib(summary.bytesArchived),
        seconds: seconds(summary.durationMs),
        baseline,
      });
    };
    const add = (count: number) => control.mutate({ op: 'add', kind: 'photo', count });
    const trash = async (count: number) => {
      const library = await control.call<{ assets: LibraryAsset[] }>('GET', '/library?sha256=false');
      const visible = library.assets.filter(
        (a) => a.zone === 'PrimarySync' && a.zoneOwner === 'owner' && !a.isHidden && !a.isDeleted,
      );
      for (const asset of visible.slice(0, count))
        await control.mutate({ op: 'trash', assetRecordName: asset.assetRecordName });
    };

    await scenario(`first sync of ${options.assets} assets`, async () => {});
    // The simulator's account owns and joined Shared Albums: an idle run lists them once.
    await scenario('idle (nothing changed; Shared Albums listed)', async () => {});
    await scenario('idle, Shared Albums off', async () => {}, {
      sharedAlbums: { enabled: false, cadenceMs: 0 },
    });
    // A new-generation album you own lives in the private database, which the library's idle
    // check reads anyway: its listing reuses that answer (docs/protocol/shared-albums.md).
    await scenario('new-generation Shared Album created (owned, 3 items)', async () => {
      await control.call('POST', '/sharedcollections/mutate', { op: 'createAlbum', title: 'Ski', items: 3 });
    });
    await scenario('idle with a new-generation album (owned)', async () => {});
    await scenario('1 photo added', async () => {
      await add(1);
    });
    await scenario('5 trashed + 2 added', async () => {
      await trash(5);
      await add(2);
    });
    await scenario('100 photos added', async () => {
      await add(100);
    });
  } finally {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return { libraryAssets: options.assets, mediaScale: options.mediaScale, scenarios };
}
