/**
 * Audit 16 (scratch evidence): the mirror safety stop lives in detection only. Tombstones a `keep`
 * detection queued (no stop under keep) and workers run under `mirror` (a deploy switching
 * `deletePolicy` while the queue holds work, a dead letter redriven after the switch, or a local
 * run's parked work finished by `sync --delete-policy mirror`) delete without any limit.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
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

describe('audit16: keep -> mirror with purges still queued', () => {
  it('deletes no more than the mirror stop allows', async () => {
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
    console.log(
      `audit16 queued purge after keep->mirror: ${deleted} of ${before} objects deleted; the mirror stop allows ${limit}`,
    );
    expect(deleted).toBeLessThanOrEqual(limit);
  });
});
