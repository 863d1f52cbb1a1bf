/**
 * A refused mirror purge goes through once the person raises the limits the stop's message names,
 * and the zone moves on (a photo taken after the purge is archived). Before, the limit weighed the
 * count carried from earlier runs against the archive those runs had already shrunk, and `sync`
 * had no way to raise `MAX_DELETE_COUNT`: a purge over 1,000 objects was refused on every run
 * (docs/reliability.md, finding 120).
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { detectChanges } from '#domain/detect/detect-changes.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
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

/** `sync --delete-policy mirror --max-delete-fraction 1` (the count at its default, 1,000). */
const MIRROR_ALL_SHARES: DeletePolicy = {
  ...DEFAULT_DELETE_POLICY,
  mode: 'mirror',
  maxDeleteFraction: 1,
};

async function world(purgeCount: number, pageSize = 200) {
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
  const syncOnce = async (policy: DeletePolicy = MIRROR_ALL_SHARES): Promise<string> => {
    const queue = new KeptQueue();
    const outcome = await detectChanges({
      source,
      state,
      queue,
      now: () => NOW,
      remainingMs: () => 600_000,
      runId: `run-${++runs}`,
      deletePolicy: policy,
    }).then(
      (r) => r.outcome as string,
      (e: Error) => `${e.name}: ${e.message}`,
    );
    for (const message of queue.messages) await processWorkMessage(deps, message);
    return outcome;
  };
  expect(await syncOnce()).toBe('caughtUp');
  const photos = Array.from({ length: 1_200 }, (_, i) => photoAsset(`p${i}`, 40 + (i % 50)));
  for (const [i, asset] of photos.entries()) {
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(40 + (i % 50), i % 250));
    await archiveCounted(deps, asset);
  }
  // The person empties Recently Deleted after a clean-up: 1,100 photos purged (paged by 200).
  const purged = photos.slice(0, purgeCount);
  for (let i = 0; i < purged.length; i += pageSize) {
    source.change(
      ZONE.zoneName,
      purged.slice(i, i + 200).map(
        (p): ZoneChange => ({
          type: 'tombstone',
          zone: ZONE,
          recordName: p.assetRecordName,
          inferredType: 'CPLAsset',
        }),
      ),
    );
  }
  // Then takes a new photo.
  const fresh = photoAsset('new-after-purge', 77);
  cdn.files.set(fresh.versions[0]?.downloadUrl ?? '', jpegBytes(77, 9));
  source.change(ZONE.zoneName, [{ type: 'asset', asset: fresh }]);

  const freshEntry = () => state.getEntry({ zone: ZONE, assetRecordName: fresh.assetRecordName });
  const archiveObjects = async () => (await state.getCounters()).objects;
  return { syncOnce, freshEntry, archiveObjects };
}

describe('a mirror purge over MAX_DELETE_COUNT', () => {
  it('is refused with a message naming the count that lets it through, and that count does', async () => {
    const { syncOnce, freshEntry, archiveObjects } = await world(1_100);
    const refused = await syncOnce();
    expect(refused).toBe(
      'MassDeletionRefusedError: refused to delete 1100 of 1200 archived objects (photos purged in iCloud; at most 1000 per run); ' +
        '1000 queued for deletion before the stop; to let it through, raise MAX_DELETE_COUNT to 1100 or more (then set it back)',
    );
    // Refused again at the same limits, weighed against the same archive (not the 200 left).
    const again = await syncOnce();
    expect(again).toContain('refused to delete 1100 of 1200 archived objects');
    expect(await archiveObjects()).toBe(200);
    // The person checked, and raises the count as told.
    expect(await syncOnce({ ...MIRROR_ALL_SHARES, maxDeleteCount: 1_100 })).toBe('caughtUp');
    expect((await freshEntry())?.status, 'the photo taken after the purge').toBe('archived');
    expect(await archiveObjects()).toBe(101);
    // The stop is done: back at the usual limits, the next run has nothing to do.
    expect(await syncOnce()).toBe('idle');
  });
});

describe('a refused purge of most of the archive, the count out of the way', () => {
  it('goes through at MAX_DELETE_FRACTION=1 after a refusal at 17 %', async () => {
    const { syncOnce, freshEntry, archiveObjects } = await world(1_180);
    const noCount = { mode: 'mirror', maxDeleteCount: 1_000_000 } as const;
    // Refused at a 17 % share: the first page (200 of 1,200) deleted before the stop.
    const first = await syncOnce({ ...noCount, maxDeleteFraction: 0.17 });
    expect(first).toContain('refused to delete 400 of 1200 archived objects');
    expect(first).toContain('raise MAX_DELETE_FRACTION to 0.334 or more');
    // The person checked, meant it, and turns the share check off.
    expect(await syncOnce({ ...noCount, maxDeleteFraction: 1 })).toBe('caughtUp');
    expect((await freshEntry())?.status, 'the photo taken after the purge').toBe('archived');
    expect(await archiveObjects()).toBe(21);
  });

  it('is still refused at a raised share that is not enough, weighed against the archive it began in', async () => {
    const { syncOnce } = await world(1_180);
    const noCount = { mode: 'mirror', maxDeleteCount: 1_000_000 } as const;
    await syncOnce({ ...noCount, maxDeleteFraction: 0.17 });
    // 0.5 of the 1,200 the purge began in: 600 allowed, 1,180 wanted; the message says how much.
    const again = await syncOnce({ ...noCount, maxDeleteFraction: 0.5 });
    expect(again).toContain(
      'refused to delete 800 of 1200 archived objects (photos purged in iCloud, 200 on earlier runs; at most 600 per run)',
    );
    expect(again).toContain('raise MAX_DELETE_FRACTION to 0.667 or more');
  });
});
