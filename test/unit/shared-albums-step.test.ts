/**
 * The Shared Albums step of a detection run: off means no request; a failure of the shared-albums
 * service is reported, never the library's run's failure; a refused mass deletion stops the run.
 */
import { describe, expect, it } from 'vitest';
import { detectSharedAlbumsStep } from '#app/shared-albums-step.ts';
import { RateLimitedError } from '#domain/errors.ts';
import { DEFAULT_DELETE_POLICY, MassDeletionRefusedError } from '#domain/plan/delete-policy.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import { createLogger } from '#shared/logger.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

const run = { runId: 'r', runStartedAt: 1, now: () => 1, onWorkStarting: async () => undefined };

function setup(enabled = true) {
  const source = new ListedSharedAlbumSource();
  const deps = {
    state: new InMemorySyncStateStore(),
    queue: new InMemoryWorkQueue(),
    deletePolicy: DEFAULT_DELETE_POLICY,
    logger: createLogger({ level: 'SILENT' }),
    sharedAlbums: { enabled, cadenceMs: 0, state: new InMemorySharedAlbumStateStore() },
  };
  const icloud = { sharedAlbums: source } as unknown as IcloudConnection;
  return { source, deps, icloud };
}

describe('detectSharedAlbumsStep', () => {
  it('asks nothing when the feature is off', async () => {
    const s = setup(false);
    expect(await detectSharedAlbumsStep(s.deps, s.icloud, run)).toBeUndefined();
    expect(s.source.requests.list).toBe(0);
  });

  it('reports a failing service instead of failing the run', async () => {
    const s = setup();
    s.source.listAlbums = async () => {
      throw new RateLimitedError('sharedstreams answered HTTP 503 to webgetalbumslist');
    };
    expect(await detectSharedAlbumsStep(s.deps, s.icloud, run)).toEqual({
      outcome: 'failed',
      message: expect.stringContaining('503'),
      errorClass: 'retryable',
    });
  });

  it('lets a refused mass deletion stop the run', async () => {
    const s = setup();
    s.source.listAlbums = async () => {
      throw new MassDeletionRefusedError(10, 10, 0, 'test');
    };
    await expect(detectSharedAlbumsStep(s.deps, s.icloud, run)).rejects.toBeInstanceOf(
      MassDeletionRefusedError,
    );
  });
});
