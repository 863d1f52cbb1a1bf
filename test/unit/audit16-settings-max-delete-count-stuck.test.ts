/**
 * Audit 16 (scratch evidence): under `mirror`, a purge of more than 1,000 objects (the fixed
 * `MAX_DELETE_COUNT`: no sync option and no deployment setting raises it) is refused on every run
 * even at the highest share a person can set (`--max-delete-fraction 1`, `icloudS3:maxDeleteFraction=1`),
 * as docs/deploy.md's `DeletionRefused` runbook and commands.md's "until a run with a higher
 * --max-delete-fraction lets the whole purge through" tell them to do; the zone stops at that page,
 * so a photo taken after the purge is never archived.
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

/** What `sync --delete-policy mirror --max-delete-fraction 1` builds (sync.ts passes no count). */
const HIGHEST_A_PERSON_CAN_SET: DeletePolicy = {
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
  const syncOnce = async (policy: DeletePolicy = HIGHEST_A_PERSON_CAN_SET): Promise<string> => {
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
  return { syncOnce, freshEntry };
}

describe('audit16: a mirror purge over 1,000 objects', () => {
  it('goes through once the person raises --max-delete-fraction to 1, and the zone moves on', async () => {
    const { syncOnce, freshEntry } = await world(1_100);
    const outcomes: string[] = [];
    for (let run = 0; run < 5; run++) outcomes.push(await syncOnce());
    const entry = await freshEntry();
    console.log(
      `audit16 stuck purge (count): ${outcomes.map((o) => o.slice(0, 200)).join(' | ')}; new photo entry: ${entry?.status ?? 'none'}`,
    );
    expect(outcomes, 'some run gets through').toContain('caughtUp');
    expect(entry?.status, 'the photo taken after the purge').toBe('archived');
  });
});

describe('audit16: a refused purge of most of the archive, MAX_DELETE_COUNT out of the way', () => {
  it('goes through at MAX_DELETE_FRACTION=1 ("turns the share check off", archive-layout §6)', async () => {
    const { syncOnce, freshEntry } = await world(1_180);
    const noCount = { mode: 'mirror', maxDeleteCount: 1_000_000 } as const;
    // Refused at a 17 % share: the first page (200 of 1,200) deleted before the stop.
    const first = await syncOnce({ ...noCount, maxDeleteFraction: 0.17 });
    // The person checked, meant it, and turns the share check off.
    const outcomes: string[] = [];
    for (let run = 0; run < 3; run++) outcomes.push(await syncOnce({ ...noCount, maxDeleteFraction: 1 }));
    const entry = await freshEntry();
    console.log(
      `audit16 stuck purge (share): first ${first.slice(0, 200)} | then ${outcomes.map((o) => o.slice(0, 200)).join(' | ')}; new photo entry: ${entry?.status ?? 'none'}`,
    );
    expect(outcomes, 'some run gets through').toContain('caughtUp');
    expect(entry?.status, 'the photo taken after the purge').toBe('archived');
  });
});
