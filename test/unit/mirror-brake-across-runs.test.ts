/**
 * The mirror safety stop holds across runs: once a run was refused for purging too much, a later
 * run must not go on deleting the same purge's objects a limit's worth at a time (docs/deploy.md,
 * `DeletionRefused`: "every later run stops there too"). A raised limit lets it through, and then
 * the stop is dropped: later purges are counted per run again.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { detectChanges } from '#domain/detect/detect-changes.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';
import { jpegBytes, photoAsset, ScriptedCdn, ZONE } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;
/** 10 % of the 40 objects archived below: four objects per run. */
const MIRROR = { mode: 'mirror' as const, maxDeleteFraction: 0.1, maxDeleteCount: 1000 };

class KeptQueue implements WorkQueue {
  readonly messages: WorkMessage[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    this.messages.push(...messages);
    return { requested: messages.length, sent: messages.length };
  }
}

describe('the mirror safety stop across runs', () => {
  it('keeps refusing a mass purge on the runs after the refusal, instead of deleting a limit each run', async () => {
    const state = new InMemorySyncStateStore({ now: () => NOW });
    const objects = new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE });
    const cdn = new ScriptedCdn();
    const deps: ArchiveDeps = {
      state,
      objects,
      downloader: cdn,
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'mirror',
      now: () => NOW,
    };
    const source = new LibraryAssetSource();
    source.addZone(ZONE, 3);
    let runs = 0;
    const syncOnce = async (deletePolicy = MIRROR): Promise<string> => {
      const queue = new KeptQueue();
      const outcome = await detectChanges({
        source,
        state,
        queue,
        now: () => NOW,
        remainingMs: () => 600_000,
        runId: `run-${++runs}`,
        deletePolicy,
      }).then(
        (result) => result.outcome as string,
        (error: Error) => `${error.name}: ${error.message}`,
      );
      for (const message of queue.messages) await processWorkMessage(deps, message);
      return outcome;
    };
    expect(await syncOnce()).toBe('caughtUp');
    const photos = Array.from({ length: 40 }, (_, i) => photoAsset(`p${i}`, 40 + i));
    for (const [i, asset] of photos.entries()) {
      cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(40 + i, i));
      await archiveCounted(deps, asset);
    }
    // iCloud purges 30 of the 40 photos (a library reset on a device); the feed pages them.
    for (const photo of photos.slice(0, 30))
      source.change(ZONE.zoneName, [
        {
          type: 'tombstone',
          zone: ZONE,
          recordName: photo.assetRecordName,
          inferredType: 'CPLAsset',
        } as ZoneChange,
      ]);

    const outcomes: string[] = [];
    for (let run = 0; run < 8; run++) outcomes.push(await syncOnce());

    // The first run deletes what fits its limit and is refused; the later ones stop there.
    expect(outcomes[0]).toMatch(/^MassDeletionRefusedError: .*; 4 queued for deletion before the stop$/);
    for (const later of outcomes.slice(1)) {
      expect(later).toMatch(/^MassDeletionRefusedError: .*, 4 on earlier runs.*; nothing was deleted$/);
    }
    expect(objects.keys().length).toBe(36);

    // A person raises the limit: the rest of the purge goes, and the stop is dropped.
    expect(await syncOnce({ ...MIRROR, maxDeleteFraction: 0.9 })).toBe('caughtUp');
    expect(objects.keys().length).toBe(10);
    expect(JSON.stringify((await state.loadZone(ZONE))?.checkpoint ?? {})).not.toContain('brake');
    // Purges are counted per run again: one object of ten fits the 10 % limit.
    source.change(ZONE.zoneName, [
      {
        type: 'tombstone',
        zone: ZONE,
        recordName: photos[30]?.assetRecordName ?? '',
        inferredType: 'CPLAsset',
      } as ZoneChange,
    ]);
    expect(await syncOnce()).toBe('caughtUp');
    expect(objects.keys().length).toBe(9);
  });
});
