/**
 * A detection run that ends without reaching Apple (the sign-in latch, a needed re-login, the
 * mass-deletion stop) still folds the catalog: the workers go on archiving what earlier runs
 * enqueued, and while the account stays locked out `catalog/` would otherwise miss those photos
 * for as long as it takes a person to sign in again.
 */
import { describe, expect, it } from 'vitest';
import { runDetection } from '#app/detection-run.ts';
import { detectorRunDeps } from '#compose/detector-deps.ts';
import { CATALOG_JOURNAL_PREFIX } from '#domain/catalog/catalog-journal.ts';
import { SignInLatchedError } from '#domain/errors.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };

describe('a detection run stopped by the sign-in latch', () => {
  it('folds into the catalog the photos the workers archived since the last run', async () => {
    const source = new LibraryAssetSource({ pageSize: 10 });
    source.addZone(PRIMARY, 3);
    const state = new InMemorySyncStateStore();
    const objects = new InMemoryObjectStore();
    const queue = new InMemoryWorkQueue();
    let latched = false;
    const deps = detectorRunDeps(
      {
        state,
        albums: state,
        objects,
        queue,
        sharedAlbumState: new InMemorySharedAlbumStateStore(),
        icloud: async () => {
          if (latched) throw new SignInLatchedError('sign-in needed', { since: Date.now() });
          return {
            session: { storedAt: Date.now(), save: async () => undefined },
            source,
            requests: { counts: () => ({}), total: () => 0 },
          };
        },
      },
      {
        deletePolicy: DEFAULT_DELETE_POLICY,
        versionPolicy: DEFAULT_VERSION_POLICY,
        reserveMs: 1,
        sharedAlbums: { enabled: false, cadenceMs: 0 },
        xmpSidecars: false,
        logger: createLogger({ level: 'SILENT' }),
        metrics: new CollectedMetrics(),
        now: Date.now,
      },
    );
    // The first run enqueues the three photos; no worker has archived them when it folds.
    expect((await runDetection(deps, { runId: 'r1', remainingMs: () => 600_000 })).outcome).toBe('caughtUp');
    const journal = () => objects.keys().filter((k) => k.startsWith(CATALOG_JOURNAL_PREFIX));
    expect(journal().length).toBeGreaterThan(0);
    // The workers archive them (their entries, as a worker writes them), then the session dies.
    for (const { message } of queue.receive(10))
      for (const item of message.items) {
        if (item.type !== 'asset') continue;
        const { asset } = item;
        await state.putEntry(
          {
            zone: asset.zone,
            assetRecordName: asset.assetRecordName,
            masterRecordName: asset.masterRecordName,
            assetChangeTag: asset.assetChangeTag,
            status: 'archived',
            flags: { isFavorite: false, isHidden: false, isDeleted: false },
            albums: [],
            versions: [],
            deletions: [],
          },
          0,
        );
      }
    latched = true;

    const latchedRun = await runDetection(deps, { runId: 'r2', remainingMs: () => 600_000 });

    expect(latchedRun.outcome).toBe('reauthRequired');
    expect({ journalLeft: journal().length }).toEqual({ journalLeft: 0 });
  });
});
