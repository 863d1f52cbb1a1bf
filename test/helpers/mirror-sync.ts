/**
 * A zone synced once under `mirror`, `count` photos archived (one object each), and one sync
 * (detection, then the workers on everything it queued) to run after iCloud purged some: what the
 * mirror safety stop's tests share.
 */
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { detectChanges } from '#domain/detect/detect-changes.ts';
import type { TombstoneType, ZoneChange } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';
import { jpegBytes, photoAsset, ScriptedCdn, ZONE } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;

/** Keeps what detection queued, for the workers to take after it. */
class KeptQueue implements WorkQueue {
  readonly messages: WorkMessage[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    this.messages.push(...messages);
    return { requested: messages.length, sent: messages.length };
  }
}

export async function mirroredArchive(count: number, policy: DeletePolicy) {
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
  /** One detection run, then the workers on all it queued: the run's outcome, or its error as `name: message`. */
  const syncOnce = async (deletePolicy = policy): Promise<string> => {
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
  if ((await syncOnce()) !== 'caughtUp') throw new Error('the first sync did not catch up');
  const photos = Array.from({ length: count }, (_, i) => photoAsset(`p${i}`, 40 + i));
  for (const [i, asset] of photos.entries()) {
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(40 + i, i));
    await archiveCounted(deps, asset);
  }
  /** Appends one page of tombstones to the zone's feed. */
  const purgePage = (tombstones: readonly { recordName: string; inferredType: TombstoneType }[]) =>
    source.change(
      ZONE.zoneName,
      tombstones.map((t): ZoneChange => ({ type: 'tombstone', zone: ZONE, ...t })),
    );
  return { state, objects, photos, syncOnce, purgePage, source, deps };
}
