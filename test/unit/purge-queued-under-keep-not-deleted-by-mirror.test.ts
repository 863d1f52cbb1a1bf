/**
 * The mirror safety stop lives in detection, so a purge is deleted only when the detection that
 * queued it weighed it under `mirror`: the work message carries that mode and the worker takes the
 * stricter of it and its own. Tombstones a `keep` detection queued (a deploy switching
 * `deletePolicy` while the queue holds work, a dead letter redriven after the switch, a local run's
 * parked work finished by `sync --delete-policy mirror`) are recorded, their objects kept
 * (docs/reliability.md, finding 121).
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import { encodeWorkMessage, parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { detectChanges } from '#domain/detect/detect-changes.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_DELETE_POLICY, deletionLimit } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';
import { jpegBytes, photoAsset, ScriptedCdn, ZONE } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;

class KeptQueue implements WorkQueue {
  readonly messages: WorkMessage[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    this.messages.push(...messages);
    return { requested: messages.length, sent: messages.length };
  }
}

describe('keep -> mirror with purges still queued', () => {
  it('deletes none of what keep queued (no stop weighed it): recorded purged, objects kept', async () => {
    const state = new InMemorySyncStateStore({ now: () => NOW });
    const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
    const cdn = new ScriptedCdn();
    const base: Omit<ArchiveDeps, 'deletePolicy'> = {
      state,
      objects,
      downloader: cdn,
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      now: () => NOW,
    };
    const source = new LibraryAssetSource();
    source.addZone(ZONE, 3);
    const detect = async (queue: KeptQueue) =>
      detectChanges({
        source,
        state,
        queue,
        now: () => NOW,
        remainingMs: () => 600_000,
        runId: `run-${Math.random()}`,
        deletePolicy: DEFAULT_DELETE_POLICY,
      });
    const first = new KeptQueue();
    await detect(first);
    for (const m of first.messages) await processWorkMessage({ ...base, deletePolicy: 'keep' }, m);
    const photos = Array.from({ length: 400 }, (_, i) => photoAsset(`p${i}`, 40 + (i % 50)));
    for (const [i, asset] of photos.entries()) {
      cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(40 + (i % 50), i % 250));
      await archiveCounted({ ...base, deletePolicy: 'keep' }, asset);
    }
    const before = objects.keys().length;
    // iCloud purges 300 of the 400 photos; the keep detection queues their tombstones.
    source.change(
      ZONE.zoneName,
      photos.slice(0, 300).map(
        (p): ZoneChange => ({
          type: 'tombstone',
          zone: ZONE,
          recordName: p.assetRecordName,
          inferredType: 'CPLAsset',
        }),
      ),
    );
    const queued = new KeptQueue();
    await detect(queued);
    // The policy is now mirror when the workers take the queued work.
    for (const m of queued.messages) await processWorkMessage({ ...base, deletePolicy: 'mirror' }, m);
    const deleted = before - objects.keys().length;
    const limit = deletionLimit({ ...DEFAULT_DELETE_POLICY, mode: 'mirror' }, before);
    expect(limit).toBe(20);
    expect(queued.messages.every((m) => m.deleteMode === 'keep')).toBe(true);
    expect(deleted).toBe(0);
    const entry = await state.getEntry({ zone: ZONE, assetRecordName: photos[0]?.assetRecordName ?? '' });
    expect(entry?.status).toBe('purged');
    expect(entry?.versions.length).toBeGreaterThan(0);
  });
});

describe('the delete mode a purge was queued under', () => {
  async function archived(count: number) {
    const state = new InMemorySyncStateStore({ now: () => NOW });
    const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
    const cdn = new ScriptedCdn();
    const base: Omit<ArchiveDeps, 'deletePolicy'> = {
      state,
      objects,
      downloader: cdn,
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      now: () => NOW,
    };
    const photos = Array.from({ length: count }, (_, i) => photoAsset(`q${i}`, 40 + i));
    for (const [i, asset] of photos.entries()) {
      cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(40 + i, i));
      await archiveCounted({ ...base, deletePolicy: 'keep' }, asset);
    }
    const purge = (deleteMode?: 'keep' | 'mirror'): WorkMessage => ({
      v: 1,
      runId: 'run',
      issuedAt: NOW,
      ...(deleteMode === undefined ? {} : { deleteMode }),
      items: photos.map((p) => ({
        type: 'tombstone',
        zone: ZONE,
        recordName: p.assetRecordName,
        inferredType: 'CPLAsset',
      })),
    });
    return { base, objects, purge };
  }

  it.each([
    ['mirror', 'mirror', 3],
    ['mirror', 'keep', 0],
    ['keep', 'mirror', 0],
    [undefined, 'mirror', 0],
    [undefined, 'keep', 0],
  ] as const)('queued under %s, worker under %s: %i objects deleted', async (queuedUnder, worker, gone) => {
    const { base, objects, purge } = await archived(3);
    const before = objects.keys().length;
    const result = await processWorkMessage({ ...base, deletePolicy: worker }, purge(queuedUnder));
    expect(before - objects.keys().length).toBe(gone);
    expect(result.purged + result.purgedKept).toBe(3);
  });

  it('is carried on the wire, and a message without it still parses', () => {
    const message: WorkMessage = {
      v: 1,
      runId: 'run',
      issuedAt: NOW,
      deleteMode: 'mirror',
      items: [{ type: 'tombstone', zone: ZONE, recordName: 'A', inferredType: 'CPLAsset' }],
    };
    expect(parseWorkMessage(encodeWorkMessage(message)).deleteMode).toBe('mirror');
    const { deleteMode: _, ...older } = message;
    expect(parseWorkMessage(encodeWorkMessage(older)).deleteMode).toBeUndefined();
  });
});
