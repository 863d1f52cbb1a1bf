/**
 * The mirror safety stop counts what the workers will delete, whichever tombstone of a photo
 * names it. A purge reaches `changes/zone` as two type-less tombstones per photo, asset and
 * master, and the pair may be split across pages (docs/protocol/records.md#tombstones); the
 * workers purge through either (apply-change.ts), so a page of master tombstones, or of
 * tombstones of unknown type that name masters, must count as much as the assets' would, and a
 * photo whose two tombstones both arrive must count once.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { detectChanges } from '#domain/detect/detect-changes.ts';
import type { Asset, TombstoneType, ZoneChange } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource } from '#test/fakes/library-asset-source.ts';
import { jpegBytes, photoAsset, ScriptedCdn, ZONE } from '#test/handlers/handler-doubles.ts';
import { archiveCounted } from '#test/helpers/archive-counted.ts';

const NOW = 1_750_000_000_000;
/** 5 % of the 20 objects archived below: one object per run. */
const MIRROR = { mode: 'mirror' as const, maxDeleteFraction: 0.05, maxDeleteCount: 1000 };

class KeptQueue implements WorkQueue {
  readonly messages: WorkMessage[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    this.messages.push(...messages);
    return { requested: messages.length, sent: messages.length };
  }
}

/** A zone synced once, then 20 archived photos (20 objects) under `mirror`. */
async function archiveOfTwenty() {
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
  /** One detection run, then the workers on all it queued: the run's outcome or error's name. */
  const syncOnce = async (): Promise<string> => {
    const queue = new KeptQueue();
    const outcome = await detectChanges({
      source,
      state,
      queue,
      now: () => NOW,
      remainingMs: () => 600_000,
      runId: `run-${++runs}`,
      deletePolicy: MIRROR,
    }).then(
      (result) => result.outcome as string,
      (error: Error) => error.name,
    );
    for (const message of queue.messages) await processWorkMessage(deps, message);
    return outcome;
  };
  expect(await syncOnce()).toBe('caughtUp');
  const photos = Array.from({ length: 20 }, (_, i) => photoAsset(`p${i}`, 40 + i));
  for (const [i, asset] of photos.entries()) {
    cdn.files.set(asset.versions[0]?.downloadUrl ?? '', jpegBytes(40 + i, i));
    await archiveCounted(deps, asset);
  }
  expect(objects.keys()).toHaveLength(20);
  /** Appends one page of tombstones to the zone's feed. */
  const purgePage = (tombstones: readonly { recordName: string; inferredType: TombstoneType }[]) =>
    source.change(
      ZONE.zoneName,
      tombstones.map((t): ZoneChange => ({ type: 'tombstone', zone: ZONE, ...t })),
    );
  return { objects, photos, syncOnce, purgePage };
}

const masterTombstone = (type: TombstoneType) => (p: Asset) => ({
  recordName: p.masterRecordName,
  inferredType: type,
});
const assetTombstone = (p: Asset) => ({ recordName: p.assetRecordName, inferredType: 'CPLAsset' as const });

describe('the mirror safety stop and master tombstones', () => {
  it.each(['CPLMaster', 'unknown'] as const)(
    'refuses a page of %s tombstones naming the masters of half the archive',
    async (type) => {
      const { objects, photos, syncOnce, purgePage } = await archiveOfTwenty();
      // iCloud purges ten photos; this page holds their masters' tombstones (the assets' follow).
      purgePage(photos.slice(0, 10).map(masterTombstone(type)));

      expect({ outcome: await syncOnce(), objectsLeft: objects.keys().length }).toEqual({
        outcome: 'MassDeletionRefusedError',
        objectsLeft: 20,
      });
    },
  );

  it.each([
    ['on one page', false],
    ['split across two pages', true],
  ] as const)('counts a photo whose asset and master tombstones both come %s once', async (_, split) => {
    const { objects, photos, syncOnce, purgePage } = await archiveOfTwenty();
    const [photo] = photos;
    if (photo === undefined) throw new Error('no photo');
    const pair = [masterTombstone('CPLMaster')(photo), assetTombstone(photo)];
    if (split) for (const tombstone of pair) purgePage([tombstone]);
    else purgePage(pair);

    // One object, the limit: allowed, and deleted.
    expect({ outcome: await syncOnce(), objectsLeft: objects.keys().length }).toEqual({
      outcome: 'caughtUp',
      objectsLeft: 19,
    });
  });
});
