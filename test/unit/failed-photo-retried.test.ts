/**
 * A photo the worker recorded `failed` (a permanent error by the classifier: a CDN 404, a record
 * shape refused, an AccessDenied the owner fixes later) is tried again by the scheduled runs on
 * the backoff of the records without a download URL (the next three runs, then 1, 2, 4, 8, 16
 * hours apart, then daily), without a request on an idle run, until it is archived. Before, it
 * stayed `failed` until its record changed or a person ran `verify --repair`: missing for good.
 * A photo purged meanwhile is not tried again; one archived meanwhile drops off the list.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { runDetection } from '#app/detection-run.ts';
import { detectorRunDeps } from '#compose/detector-deps.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { detectChanges } from '#domain/detect/detect-changes.ts';
import { REPORT_AFTER_TRIES } from '#domain/detect/retry-failed-photos.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { archiveStatus, ManifestTally } from '#domain/verify/archive-status.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { METRICS } from '#shared/env-names.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';
import { jpegBytes, photoAsset, ScriptedCdn, ZONE } from '#test/handlers/handler-doubles.ts';

const HOUR = 60 * 60 * 1000;

/** Keeps what detection queued, for the workers to take after it. */
class KeptQueue implements WorkQueue {
  readonly messages: WorkMessage[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    this.messages.push(...messages);
    return { requested: messages.length, sent: messages.length };
  }
}

/** As CdnDownloader throws a 404: permanent for this URL and this run. */
const notFound = () => new UnexpectedResponseError('CDN answered 404', { permanent: true });

async function setUp(deletePolicy: 'keep' | 'mirror' = 'keep') {
  let now = 1_750_000_000_000;
  const clock = () => now;
  const state = new InMemorySyncStateStore({ now: clock });
  const cdn = new ScriptedCdn();
  const deps: ArchiveDeps = {
    state,
    objects: new InMemoryObjectStore({ now: clock, partSize: MIN_PART_SIZE }),
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy,
    now: clock,
  };
  const source = new LibraryAssetSource();
  source.addZone(ZONE, 0);
  let runs = 0;
  /** One scheduled run: detection, then the workers on all it queued. */
  const syncOnce = async () => {
    const queue = new KeptQueue();
    const result = await detectChanges({
      source,
      state,
      queue,
      now: clock,
      remainingMs: () => 600_000,
      runId: `run-${++runs}`,
      deletePolicy: { mode: deletePolicy, maxDeleteFraction: 1, maxDeleteCount: 1_000 },
    });
    for (const message of queue.messages) await processWorkMessage(deps, message);
    return result;
  };
  await syncOnce();
  const photo: Asset = photoAsset('late', 40);
  const url = photo.versions[0]?.downloadUrl ?? '';
  return { state, cdn, source, photo, url, syncOnce, advance: (ms: number) => (now += ms) };
}

/** The CDN answers 404 for `url` `times` times, then serves `bytes`. */
function notFoundThenServe(cdn: ScriptedCdn, url: string, times: number, bytes: Buffer): void {
  let left = times;
  cdn.files.set(url, () => {
    left -= 1;
    if (left <= 0) cdn.files.set(url, bytes);
    return notFound();
  });
}

const lookups = (calls: readonly string[]) => calls.filter((c) => c.startsWith('lookupAssets')).length;

describe('a photo the worker recorded failed', () => {
  it('is archived on a later run once the CDN serves it, and the run after is idle at one request', async () => {
    const { state, cdn, source, photo, url, syncOnce, advance } = await setUp();
    notFoundThenServe(cdn, url, 1, jpegBytes(40, 7));
    source.change(ZONE.zoneName, [{ type: 'asset', asset: photo }]);

    await syncOnce();
    expect((await state.getEntry(photo))?.status).toBe('failed');

    for (let run = 0; run < 8 && (await state.getEntry(photo))?.status !== 'archived'; run++) {
      advance(HOUR / 4);
      await syncOnce();
    }

    expect((await state.getEntry(photo))?.status).toBe('archived');
    expect(cdn.opened.filter((u) => u === url)).toHaveLength(2);
    // The list is left: an idle run asks iCloud once and nothing else.
    advance(HOUR / 4);
    await syncOnce();
    source.calls.length = 0;
    advance(HOUR / 4);
    expect((await syncOnce()).outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
  });

  it('is tried on a bounded backoff while it keeps failing, and a run between tries is idle', async () => {
    const { state, cdn, source, photo, url, syncOnce, advance } = await setUp();
    cdn.files.set(url, notFound);
    source.change(ZONE.zoneName, [{ type: 'asset', asset: photo }]);
    await syncOnce();
    const perRun: number[] = [];
    const reported: number[] = [];
    for (let run = 0; run < 4 * 24 * 7; run++) {
      advance(HOUR / 4); // a week of the 15-minute schedule
      source.calls.length = 0;
      const result = await syncOnce();
      perRun.push(lookups(source.calls));
      if (result.zones.some((z) => z.stillFailing?.includes(photo.assetRecordName))) reported.push(run);
    }

    expect((await state.getEntry(photo))?.status).toBe('failed');
    expect(perRun.slice(0, 4)).toEqual([1, 1, 1, 0]);
    // Three quick tries, 1, 2, 4, 8, 16 h apart, then daily: about 14 lookups in a week.
    const total = perRun.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(12);
    expect(total).toBeLessThanOrEqual(15);
    expect(cdn.opened.filter((u) => u === url)).toHaveLength(total + 1);
    expect(perRun.slice(-4 * 24 * 3).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3);
    // Reported once (the WorkGivenUp alarm), after about a day and a quarter of tries: no nag per run.
    expect(reported).toHaveLength(1);
    expect(reported[0]! / 4).toBeGreaterThan(24);
    expect(reported[0]! / 4).toBeLessThan(36);
    // status lists it: why, and when the next try is.
    const tally = new ManifestTally();
    for await (const entry of state.entries()) tally.add(entry);
    const { zones, retries } = await state.loadZonesAndRetries();
    const now = advance(0);
    const shown = archiveStatus({
      now,
      runs: [],
      databases: [],
      zones,
      manifest: tally.summary(),
      counters: await state.getCounters(),
      failed: tally.failed(),
      retries,
    });
    expect(shown.failedPhotos).toEqual([
      expect.objectContaining({
        assetRecordName: photo.assetRecordName,
        reason: expect.stringContaining('CDN answered 404'),
        attempts: total + 1,
        retries: total,
      }),
    ]);
    const next = shown.failedPhotos[0]?.nextTry;
    expect(next === 'nextRun' || (typeof next === 'number' && next > now && next <= now + 24 * HOUR)).toBe(
      true,
    );
  });

  it('is not tried again once iCloud purged it (mirror)', async () => {
    const { state, cdn, source, photo, url, syncOnce, advance } = await setUp('mirror');
    cdn.files.set(url, notFound);
    source.change(ZONE.zoneName, [{ type: 'asset', asset: photo }]);
    await syncOnce();
    source.change(ZONE.zoneName, [
      { type: 'tombstone', zone: ZONE, recordName: photo.assetRecordName, inferredType: 'CPLAsset' },
    ]);
    advance(HOUR / 4);
    await syncOnce();
    expect((await state.getEntry(photo))?.status).toBe('purged');
    const opened = cdn.opened.length;
    source.calls.length = 0;
    for (let run = 0; run < 8; run++) {
      advance(HOUR / 4);
      await syncOnce();
    }

    expect(cdn.opened).toHaveLength(opened);
    expect(lookups(source.calls)).toBe(0);
    expect((await state.getEntry(photo))?.status).toBe('purged');
  });

  it('drops off the list once a change of its record archived it', async () => {
    const { state, cdn, source, photo, url, syncOnce, advance } = await setUp();
    cdn.files.set(url, notFound);
    source.change(ZONE.zoneName, [{ type: 'asset', asset: photo }]);
    await syncOnce();
    const edited: Asset = { ...photo, assetChangeTag: 'a2', isFavorite: true };
    cdn.files.set(url, jpegBytes(40, 7));
    source.change(ZONE.zoneName, [{ type: 'asset', asset: edited }]);
    // The change and a due retry may meet in one run: the archive is idempotent.
    advance(HOUR / 4);
    await syncOnce();
    expect((await state.getEntry(photo))?.status).toBe('archived');
    const opened = cdn.opened.length;
    for (let run = 0; run < 4; run++) {
      advance(HOUR / 4);
      await syncOnce();
    }
    source.calls.length = 0;
    advance(HOUR / 4);

    expect((await syncOnce()).outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
    expect(cdn.opened).toHaveLength(opened);
  });
});

describe('a photo still failing after a day of retries, in a detection run', () => {
  it('is counted once in workGivenUp (the WorkGivenUp alarm), not on every run', async () => {
    const source = new LibraryAssetSource();
    const zone = source.addZone(ZONE, 2);
    const state = new InMemorySyncStateStore();
    const metrics = new CollectedMetrics();
    const deps = detectorRunDeps(
      {
        state,
        albums: state,
        objects: new InMemoryObjectStore(),
        queue: new InMemoryWorkQueue(),
        sharedAlbumState: new InMemorySharedAlbumStateStore(),
        icloud: async () => ({
          session: { storedAt: Date.now(), save: async () => undefined },
          source,
          requests: { counts: () => ({}), total: () => 0 },
        }),
      },
      {
        deletePolicy: DEFAULT_DELETE_POLICY,
        versionPolicy: DEFAULT_VERSION_POLICY,
        reserveMs: 1,
        sharedAlbums: { enabled: false, cadenceMs: 0 },
        xmpSidecars: false,
        logger: createLogger({ level: 'SILENT' }),
        metrics,
        now: Date.now,
      },
    );
    const invocation = (runId: string) => ({ runId, remainingMs: () => 600_000 });
    await runDetection(deps, invocation('first'));
    const photo = zone.library[0]!;
    const failedAt = Date.now() - 2 * 24 * HOUR;
    await state.putEntry(
      {
        zone: ZONE,
        assetRecordName: photo.assetRecordName,
        masterRecordName: photo.masterRecordName,
        assetChangeTag: '',
        status: 'failed',
        flags: { isFavorite: false, isHidden: false, isDeleted: false },
        albums: [],
        versions: [],
        deletions: [],
        failure: { reason: 'UnexpectedResponseError: CDN answered 404', at: failedAt, attempts: 8 },
      },
      (await state.getEntry(photo))?.revision ?? 0,
    );
    await state.noteFailedForRetry(photo, failedAt);
    const retry = (await state.loadZonesAndRetries()).retries[0]!;
    await state.recordRetryTried(retry, REPORT_AFTER_TRIES, failedAt);

    await runDetection(deps, invocation('due'));
    const once = metrics.values.get(METRICS.workGivenUp);
    // Due again a day later, still failing: tried, not told again.
    await state.recordRetryTried(retry, REPORT_AFTER_TRIES + 1, failedAt);
    await runDetection(deps, invocation('later'));

    expect(once).toBe(1);
    expect((await state.loadZonesAndRetries()).retries[0]?.tries).toBe(REPORT_AFTER_TRIES + 2);
    expect(metrics.values.get(METRICS.workGivenUp)).toBe(1);
  });
});
