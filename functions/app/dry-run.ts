/**
 * The dry run (`sync --dry-run`): detection walks exactly what a real run would, over a read-only
 * view of the state, and its work is planned against the manifest instead of enqueued; then the
 * Shared Albums, as the real run's step lists them (dry-run-shared-albums.ts). Nothing is
 * written, nothing is downloaded, no token moves.
 */
import { checkArchiveOwner } from '#domain/account/archive-owner.ts';
import { missingVersions } from '#domain/archive/missing-versions.ts';
import { detectChanges } from '#domain/detect/detect-changes.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { planVersions } from '#domain/plan/plan-versions.ts';
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import type { SyncStateStore } from '#ports/sync-state-store.ts';
import type { SharedAlbumPlan } from './dry-run-shared-albums.ts';
import { dryRunState } from './dry-run-state.ts';
import type { SharedAlbumsSettings } from './shared-albums-step.ts';

export interface DryRunDeps {
  readonly state: SyncStateStore;
  readonly icloud: () => Promise<IcloudConnection>;
  readonly deletePolicy: DeletePolicy;
  readonly versionPolicy: VersionPolicy;
  /** Shared Albums as a real run would list them; absent or `enabled: false`: the library alone. */
  readonly sharedAlbums?: SharedAlbumsSettings;
  readonly now?: () => number;
}

/** What a real run would have done. */
export interface DryRunReport {
  readonly outcome: 'idle' | 'dryRun';
  readonly items: number;
  readonly assets: {
    readonly archived: number;
    readonly skipped: number;
    readonly updated: number;
    readonly deleted: number;
  };
  readonly versions: number;
  readonly bytes: number;
  /** What the Shared Albums step would do (absent when the feature is off or the account has none). */
  readonly sharedAlbums?: SharedAlbumPlan;
}

export async function runDryRun(deps: DryRunDeps): Promise<DryRunReport> {
  const now = deps.now ?? Date.now;
  const icloud = await deps.icloud();
  // Another Apple ID's library would show the archive's photos as purged: refused (compared only).
  const { state } = deps;
  await checkArchiveOwner(
    { loadArchiveOwner: () => state.loadArchiveOwner() },
    { account: icloud.session.account, now: now() },
  );
  const messages: WorkMessage[] = [];
  const result = await detectChanges({
    source: icloud.source,
    state: dryRunState(deps.state, now),
    queue: {
      enqueue: async (batch) => {
        messages.push(...batch);
        return { requested: batch.length, sent: batch.length };
      },
    },
    now,
    remainingMs: () => Number.MAX_SAFE_INTEGER,
    runId: `dry-run-${now()}`,
    deletePolicy: deps.deletePolicy,
  });
  const items = messages.flatMap((m) => m.items);
  let archived = 0;
  let skipped = 0;
  let bytes = 0;
  let versions = 0;
  for (const item of items) {
    if (item.type !== 'asset') continue;
    const entry = await deps.state.getEntry({
      zone: item.asset.zone,
      assetRecordName: item.asset.assetRecordName,
    });
    const missing = missingVersions(planVersions(item.asset, deps.versionPolicy), entry);
    if (missing.length === 0) skipped++;
    else archived++;
    versions += missing.length;
    bytes += missing.reduce((sum, p) => sum + p.version.size, 0);
  }
  const shared = await planSharedAlbumsIfOn(deps, icloud, now);
  return {
    outcome:
      result.outcome === 'idle' && (shared === undefined || shared.albumsChanged === 0) ? 'idle' : 'dryRun',
    items: items.length,
    assets: {
      archived,
      skipped,
      updated: items.filter((i) => i.type === 'assetOnly' || i.type === 'albumMembership').length,
      deleted: items.filter((i) => i.type === 'tombstone').length,
    },
    versions,
    bytes,
    ...(shared === undefined ? {} : { sharedAlbums: shared }),
  };
}

/** The Shared Albums' plan, loaded only when the feature is on and the account has the service. */
async function planSharedAlbumsIfOn(
  deps: DryRunDeps,
  icloud: IcloudConnection,
  now: () => number,
): Promise<SharedAlbumPlan | undefined> {
  const settings = deps.sharedAlbums;
  if (!settings?.enabled || icloud.sharedAlbums === undefined) return undefined;
  const { planSharedAlbums } = await import('./dry-run-shared-albums.ts');
  return await planSharedAlbums({
    settings,
    source: icloud.sharedAlbums,
    state: deps.state,
    deletePolicy: deps.deletePolicy,
    now,
  });
}
