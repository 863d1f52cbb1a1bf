/**
 * Issue 11, item 6: the counts a run reports are what happened. An item archived by a delivery
 * that then had to be retried counts as archived (not as skipped by the redelivery); a purge under
 * `keep` is reported as kept, never as deleted.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { type MessageResult, processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { METRICS } from '#shared/env-names.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import {
  fakeIcloud,
  jpegBytes,
  lambdaContext,
  photoAsset,
  RecordingLogger,
  ScriptedCdn,
  sqsEvent,
  sqsRecord,
  ZONE,
} from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;

function setUp(deletePolicy: 'keep' | 'mirror' = 'keep') {
  const clock = { now: NOW };
  const state = new InMemorySyncStateStore({ now: () => clock.now });
  const objects = new InMemoryObjectStore({ now: () => clock.now, partSize: MIN_PART_SIZE });
  const cdn = new ScriptedCdn();
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy,
    now: () => clock.now,
  };
  return { clock, state, objects, cdn, deps };
}

/** A CDN answer that resets the connection `times` times, then serves `bytes`. */
function flaky(bytes: Buffer, times: number): () => Readable {
  let left = times;
  // ScriptedCdn fails the download with an Error its answer returns (checked at run time).
  return (): Readable => {
    if (left-- > 0) return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) as never;
    return Readable.from([bytes]);
  };
}

/** Sums what each delivery reported, as the run record and the summary add them up. */
function sum(results: readonly MessageResult[]) {
  const total = { items: 0, archived: 0, unchanged: 0, versionsArchived: 0, bytesArchived: 0 };
  for (const r of results) {
    total.items += r.items;
    total.archived += r.archived;
    total.unchanged += r.unchanged;
    total.versionsArchived += r.versionsArchived;
    total.bytesArchived += r.bytesArchived;
  }
  return total;
}

describe('counts after a retried delivery', () => {
  it('counts two new photos as archived when one CDN fault made the message run twice', async () => {
    const { clock, cdn, deps } = setUp();
    const first = photoAsset('first', 40);
    const second = photoAsset('second', 60);
    cdn.files.set(first.versions[0]?.downloadUrl ?? '', jpegBytes(40, 1));
    cdn.files.set(second.versions[0]?.downloadUrl ?? '', flaky(jpegBytes(60, 2), 1));
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW,
      items: [first, second].map((asset: Asset) => ({ type: 'asset' as const, asset })),
    };
    const reported: MessageResult[] = [];

    await expect(
      processWorkMessage(deps, message, { onRetry: (done) => reported.push(done) }),
    ).rejects.toThrow('socket hang up');
    clock.now += 30_000;
    reported.push(await processWorkMessage(deps, message));

    expect(sum(reported)).toEqual({
      items: 2,
      archived: 2,
      unchanged: 0,
      versionsArchived: 2,
      bytesArchived: 100,
    });
  });

  it('still counts an asset that was already archived before the message as skipped, once', async () => {
    const { clock, cdn, deps } = setUp();
    const old = photoAsset('old', 40);
    const fresh = photoAsset('fresh', 60);
    cdn.files.set(old.versions[0]?.downloadUrl ?? '', jpegBytes(40, 1));
    cdn.files.set(fresh.versions[0]?.downloadUrl ?? '', flaky(jpegBytes(60, 2), 1));
    await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'before',
      issuedAt: NOW,
      items: [{ type: 'asset', asset: old }],
    });
    clock.now += 60_000;
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: clock.now,
      items: [old, fresh].map((asset) => ({ type: 'asset' as const, asset })),
    };
    const reported: MessageResult[] = [];

    await processWorkMessage(deps, message, { onRetry: (done) => reported.push(done) }).catch(
      () => undefined,
    );
    clock.now += 30_000;
    reported.push(await processWorkMessage(deps, message));

    expect(sum(reported)).toMatchObject({ items: 2, archived: 1, unchanged: 1, versionsArchived: 1 });
  });

  it('records assetsArchived 2 on the run when the download worker retried the message', async () => {
    const { state, objects, cdn } = setUp();
    const icloud = fakeIcloud(cdn);
    const metrics = new CollectedMetrics();
    const handler = createDownloadHandler({
      decode: parseWorkMessage,
      archive: {
        state,
        objects,
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: 'keep',
        now: () => NOW,
      },
      icloud: async () => icloud.adapters,
      logger: new RecordingLogger(),
      metrics,
      reserveMs: 1_000,
    });
    const run = await state.startRun('run-1', 'detect', NOW - 1_000);
    const first = photoAsset('one', 40);
    const second = photoAsset('two', 60);
    cdn.files.set(first.versions[0]?.downloadUrl ?? '', jpegBytes(40, 1));
    cdn.files.set(second.versions[0]?.downloadUrl ?? '', flaky(jpegBytes(60, 2), 1));
    const record = sqsRecord(
      JSON.stringify({
        v: WORK_MESSAGE_VERSION,
        runId: run.runId,
        runStartedAt: run.startedAt,
        issuedAt: NOW - 500,
        items: [first, second].map((asset) => ({ type: 'asset', asset })),
      }),
    );

    const once = await handler(
      sqsEvent([record]),
      lambdaContext(() => 60_000),
    );
    const again = await handler(
      sqsEvent([record]),
      lambdaContext(() => 60_000),
    );

    expect(once.batchItemFailures).toHaveLength(1);
    expect(again.batchItemFailures).toEqual([]);
    const [recorded] = await state.listRuns(1);
    expect(recorded?.counts).toMatchObject({ assetsArchived: 2, filesArchived: 2, bytesArchived: 100 });
    expect(metrics.values.get(METRICS.assetsArchived)).toBe(2);
  });
});

describe('a purge under keep', () => {
  it('is reported as purged in iCloud and kept, not as deleted', async () => {
    const { cdn, deps, objects } = setUp('keep');
    const asset = photoAsset('gone', 40);
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(40, 1));
    await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'a',
      issuedAt: NOW,
      items: [{ type: 'asset', asset }],
    });

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'b',
      issuedAt: NOW,
      items: [{ type: 'tombstone', zone: ZONE, recordName: asset.assetRecordName, inferredType: 'CPLAsset' }],
    });

    expect(result).toMatchObject({ purged: 0, purgedKept: 1 });
    expect(objects.keys()).toHaveLength(1);
  });

  it('is reported as deleted under mirror, where the objects go', async () => {
    const { cdn, deps, objects } = setUp('mirror');
    const asset = photoAsset('gone', 40);
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(40, 1));
    await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'a',
      issuedAt: NOW,
      items: [{ type: 'asset', asset }],
    });

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'b',
      issuedAt: NOW,
      // Queued by a mirror detection (a message without the mode counts as keep).
      deleteMode: 'mirror',
      items: [{ type: 'tombstone', zone: ZONE, recordName: asset.assetRecordName, inferredType: 'CPLAsset' }],
    });

    expect(result).toMatchObject({ purged: 1, purgedKept: 0 });
    expect(objects.keys()).toHaveLength(0);
  });
});

/** A state store whose process dies at the first manifest write (the object is already stored). */
class DiesAtFirstManifestWrite extends InMemorySyncStateStore {
  died = false;
  override async putEntry(...args: Parameters<InMemorySyncStateStore['putEntry']>) {
    if (!this.died) {
      this.died = true;
      throw new Error('the worker died before its manifest write');
    }
    return super.putEntry(...args);
  }
}

describe('archive counters after a crash', () => {
  it('count the object a crashed attempt stored once the retry adopts it', async () => {
    const state = new DiesAtFirstManifestWrite({ now: () => NOW });
    const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
    const cdn = new ScriptedCdn();
    const deps: ArchiveDeps = {
      state,
      objects,
      downloader: cdn,
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => NOW,
    };
    const asset = photoAsset('crash', 70);
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(70, 4));

    await expect(archiveCounted(deps, asset)).rejects.toThrow('died');
    await archiveCounted(deps, asset);
    await archiveCounted(deps, asset);

    expect(objects.keys()).toHaveLength(1);
    expect(await state.getCounters()).toEqual({ objects: 1, bytes: 70 });
  });

  it('stay exact when a mirror purge removes an object and the purge is delivered twice', async () => {
    const { cdn, deps, objects, state } = setUp('mirror');
    const asset = photoAsset('gone', 40);
    const kept = photoAsset('kept', 30);
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(40, 1));
    cdn.files.set(kept.versions[0]?.downloadUrl ?? '', jpegBytes(30, 2));
    await archiveCounted(deps, asset);
    await archiveCounted(deps, kept);
    const purge: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'b',
      issuedAt: NOW,
      // Queued by a mirror detection (a message without the mode counts as keep).
      deleteMode: 'mirror',
      items: [{ type: 'tombstone', zone: ZONE, recordName: asset.assetRecordName, inferredType: 'CPLAsset' }],
    };

    await processWorkMessage(deps, purge);
    await processWorkMessage(deps, purge);

    expect(objects.keys()).toHaveLength(1);
    expect(await state.getCounters()).toEqual({ objects: 1, bytes: 30 });
  });
});
