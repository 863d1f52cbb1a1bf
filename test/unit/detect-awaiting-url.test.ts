/**
 * A photo the change feed serves with its original's token lacking `downloadURL` (icloudpd's
 * cassette `listing_photos_missing_downloadUrl`): its record does not change when Apple offers the
 * URL later, so no delta brings it back. Detection keeps its name with the zone (the list of
 * unreadable records, `unreadable-records.ts`) and looks it up again on later runs, without end
 * but at most once a day after the quick tries, until the URL is there; then it goes on the queue
 * once. An idle run stays one request.
 */
import { describe, expect, it } from 'vitest';
import { type DetectDeps, detectChanges } from '#domain/detect/detect-changes.ts';
import { parseZoneCheckpoint } from '#domain/detect/zone-checkpoint.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import type { EnqueueReceipt, WorkQueue } from '#ports/work-queue.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { LibraryAssetSource, libraryPhoto } from '#test/fakes/library-asset-source.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const HOUR = 60 * 60 * 1000;

/** The cassette's shape: the original listed with checksum and size, without a URL. */
function withoutOriginalUrl(asset: Asset): Asset {
  const original = asset.versions.find((v) => v.kind === 'original')!;
  return {
    ...asset,
    versions: asset.versions.filter((v) => v !== original),
    unavailableVersions: [
      {
        kind: 'original',
        resourceField: original.resourceField,
        missing: ['downloadURL'],
        fileChecksum: original.fileChecksum,
      },
    ],
  };
}

class ItemsQueue implements WorkQueue {
  readonly items: Asset[] = [];
  async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    for (const m of messages)
      for (const item of m.items) if (item.type === 'asset') this.items.push(item.asset);
    return { requested: messages.length, sent: messages.length };
  }
}

async function setUp(served: (photo: Asset) => Asset = withoutOriginalUrl) {
  const source = new LibraryAssetSource();
  source.addZone(PRIMARY, 3);
  const state = new InMemorySyncStateStore();
  const queue = new ItemsQueue();
  let now = 1_750_000_000_000;
  const deps: DetectDeps = {
    source,
    state,
    queue,
    now: () => now,
    remainingMs: () => 10 * 60 * 1000,
    runId: 'run',
    deletePolicy: DEFAULT_DELETE_POLICY,
  };
  await detectChanges(deps); // the first sync, caught up
  queue.items.length = 0;
  const photo = libraryPhoto(PRIMARY, 7);
  source.change('PrimarySync', [{ type: 'asset', asset: served(photo) }]);
  /** Apple offers the URL: the record is unchanged, so the feed says nothing. */
  const offerUrl = () => {
    const library = source.zone('PrimarySync').library;
    library[library.findIndex((a) => a.assetRecordName === photo.assetRecordName)] = photo;
  };
  /** The photos the zone keeps waiting for a download URL. */
  const waitingForUrl = async () =>
    (parseZoneCheckpoint((await state.loadZone(PRIMARY))?.checkpoint).unreadable ?? [])
      .filter((r) => r.noUrl)
      .map((r) => r.name);
  return { source, queue, deps, photo, offerUrl, waitingForUrl, advance: (ms: number) => (now += ms) };
}

const lookups = (calls: readonly string[]) => calls.filter((c) => c.startsWith('lookupAssets')).length;

describe('a photo served with a version lacking its download URL', () => {
  it('is queued for what it has, kept waiting, and queued again once the URL is offered', async () => {
    const { source, queue, deps, photo, offerUrl, waitingForUrl, advance } = await setUp();

    await detectChanges(deps);

    expect(queue.items.map((a) => a.assetRecordName)).toEqual([photo.assetRecordName]);
    expect(await waitingForUrl()).toEqual([photo.assetRecordName]);
    queue.items.length = 0;
    // Still without a URL: looked up again, not queued again (nothing new to archive).
    advance(HOUR / 4);
    source.calls.length = 0;
    await detectChanges(deps);
    expect(lookups(source.calls)).toBe(1);
    expect(queue.items).toEqual([]);
    expect(await waitingForUrl()).toEqual([photo.assetRecordName]);

    offerUrl();
    advance(HOUR / 4);
    await detectChanges(deps);

    expect(queue.items).toHaveLength(1);
    expect(queue.items[0]?.versions.map((v) => v.kind)).toEqual(['original']);
    expect(await waitingForUrl()).toEqual([]);
    source.calls.length = 0;
    advance(HOUR / 4);
    expect((await detectChanges(deps)).outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
  });

  it('is never given up, and costs at most a lookup a day once the quick tries are spent', async () => {
    const { source, queue, deps, photo, offerUrl, advance } = await setUp();
    await detectChanges(deps);
    const perRun: number[] = [];
    const givenUp: string[] = [];
    for (let run = 0; run < 4 * 24 * 7; run++) {
      advance(HOUR / 4); // a week of the 15-minute schedule
      source.calls.length = 0;
      const result = await detectChanges(deps);
      givenUp.push(...(result.zones[0]?.unreadableGivenUp ?? []));
      perRun.push(lookups(source.calls));
    }

    expect(givenUp).toEqual([]);
    expect(perRun.slice(0, 3)).toEqual([1, 1, 1]);
    // After the doubling pauses reach a day: one lookup in each of the last days.
    const lastDays = perRun.slice(-4 * 24 * 3);
    expect(lastDays.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3);
    expect(lastDays.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);

    queue.items.length = 0;
    offerUrl();
    advance(24 * HOUR);
    await detectChanges(deps);
    expect(queue.items.map((a) => a.assetRecordName)).toEqual([photo.assetRecordName]);
  });

  it('does not wait for a version the policy does not keep', async () => {
    const { source, deps, waitingForUrl, advance } = await setUp((photo) => ({
      ...photo,
      unavailableVersions: [{ kind: 'thumb', resourceField: 'resJPEGThumbRes', missing: ['downloadURL'] }],
    }));

    await detectChanges(deps);

    expect(await waitingForUrl()).toEqual([]);
    advance(HOUR / 4);
    source.calls.length = 0;
    expect((await detectChanges(deps)).outcome).toBe('idle');
    expect(source.calls).toEqual(['changedZones:private']);
  });
});
