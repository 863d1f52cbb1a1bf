/**
 * A Shared Albums step that fails on every run (a schema refusing what Apple now sends, a state
 * item DynamoDB refuses, a permission missing) must not stop Shared Albums archiving silently:
 * after about a day of failing runs it is counted once in `workGivenUp` (the WorkGivenUp alarm),
 * and `status` (the detector's last-check record) says since when and with which error class. The
 * first run the step succeeds clears it; an idle run that succeeds makes no request more.
 */
import { describe, expect, it } from 'vitest';
import { runDetection } from '#app/detection-run.ts';
import { detectorRunDeps } from '#compose/detector-deps.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { sharedAlbumsStatus } from '#domain/shared-albums/shared-albums-status.ts';
import { METRICS } from '#shared/env-names.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { ZONE } from '#test/handlers/handler-doubles.ts';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
/** The default schedule: a run every 15 minutes. */
const TICK = 15 * MINUTE;

function pipeline() {
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const now = () => clock;
  const source = new LibraryAssetSource();
  source.addZone(ZONE, 2);
  const shared = new ListedSharedAlbumSource();
  const state = new InMemorySyncStateStore({ now });
  const metrics = new CollectedMetrics();
  // Every call the run makes to the detector's state store, by name.
  const calls: string[] = [];
  const counted = new Proxy(state, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(name));
        return value.apply(target, args);
      };
    },
  });
  const deps = detectorRunDeps(
    {
      state: counted,
      albums: state,
      objects: new InMemoryObjectStore(),
      queue: new InMemoryWorkQueue(),
      sharedAlbumState: new InMemorySharedAlbumStateStore(),
      icloud: async () => ({
        session: { storedAt: clock, save: async () => undefined },
        source,
        sharedAlbums: shared,
        requests: { counts: () => ({}), total: () => 0 },
      }),
    },
    {
      deletePolicy: DEFAULT_DELETE_POLICY,
      versionPolicy: DEFAULT_VERSION_POLICY,
      reserveMs: 1,
      sharedAlbums: { enabled: true, cadenceMs: 0 },
      xmpSidecars: false,
      logger: createLogger({ level: 'SILENT' }),
      metrics,
      now,
    },
  );
  let n = 0;
  const tick = async () => {
    clock += TICK;
    n += 1;
    return runDetection(deps, { runId: `run-${n}`, remainingMs: () => 600_000 });
  };
  return { state, shared, metrics, tick, now, calls };
}

/** Apple now sends an albums list the schema refuses: every run fails the same way. */
function refuseEveryListing(shared: ListedSharedAlbumSource) {
  shared.listAlbums = async () => {
    shared.requests.list++;
    throw new UnexpectedResponseError('webgetalbumslist: albums[0].albumguid expected string');
  };
}

describe('a Shared Albums step failing on every run', () => {
  it('is counted once in workGivenUp after about a day, and status says since when and why', async () => {
    const p = pipeline();
    await p.tick(); // the first run syncs the library; Shared Albums still fine
    refuseEveryListing(p.shared);
    const firstFailure = p.now() + TICK;
    const givenUpAfter: number[] = [];
    // 26 hours of scheduled runs.
    for (let i = 0; i < (26 * HOUR) / TICK; i++) {
      const before = p.metrics.values.get(METRICS.workGivenUp) ?? 0;
      const result = await p.tick();
      expect(result.outcome === 'idle' || result.outcome === 'caughtUp').toBe(true);
      if ((p.metrics.values.get(METRICS.workGivenUp) ?? 0) > before)
        givenUpAfter.push(p.now() - firstFailure);
    }
    // Once, about a day after the first failure in a row, not on every run after it.
    expect(p.metrics.values.get(METRICS.workGivenUp)).toBe(1);
    expect(givenUpAfter).toEqual([24 * HOUR]);
    // What status reads: since when, the last error's class, and that the alarm was told.
    const check = await p.state.loadLastCheck();
    expect(check.sharedAlbumsFailing).toMatchObject({
      since: firstFailure,
      lastFailedAt: p.now(),
      errorClass: 'retryable',
      message: expect.stringContaining('webgetalbumslist'),
      reportedAt: firstFailure + 24 * HOUR,
    });
    // `status --json` under `sharedAlbums.failing` (and its text warning, from the same fields).
    expect(sharedAlbumsStatus(undefined, check.sharedAlbumsFailing).failing).toEqual({
      since: new Date(firstFailure).toISOString(),
      lastFailedAt: new Date(p.now()).toISOString(),
      errorClass: 'retryable',
      message: 'webgetalbumslist: albums[0].albumguid expected string',
      reportedAt: new Date(firstFailure + 24 * HOUR).toISOString(),
    });
  });

  it('adds no request to an idle run that succeeds', async () => {
    const p = pipeline();
    await p.tick();
    p.calls.length = 0;
    await p.tick();
    // The streak rides on the check's one write: no read or write of its own.
    expect(p.calls.filter((c) => c === 'recordCheck')).toHaveLength(1);
    expect(p.calls).not.toContain('markSharedAlbumsFailingReported');
    expect(p.calls).not.toContain('loadLastCheck');
    expect(p.calls).not.toContain('lastCheckedAt');
  });

  it('is cleared by the first run the step succeeds, and a new streak is counted again', async () => {
    const p = pipeline();
    await p.tick();
    const listing = p.shared.listAlbums.bind(p.shared);
    refuseEveryListing(p.shared);
    for (let i = 0; i < (25 * HOUR) / TICK; i++) await p.tick();
    expect(p.metrics.values.get(METRICS.workGivenUp)).toBe(1);

    p.shared.listAlbums = listing;
    await p.tick();
    expect((await p.state.loadLastCheck()).sharedAlbumsFailing).toBeUndefined();

    // A failure that passes within the day calls nobody.
    refuseEveryListing(p.shared);
    for (let i = 0; i < (12 * HOUR) / TICK; i++) await p.tick();
    p.shared.listAlbums = listing;
    await p.tick();
    expect(p.metrics.values.get(METRICS.workGivenUp)).toBe(1);

    // A new streak of a day is a new call.
    refuseEveryListing(p.shared);
    for (let i = 0; i < (25 * HOUR) / TICK; i++) await p.tick();
    expect(p.metrics.values.get(METRICS.workGivenUp)).toBe(2);
  });
});
