/**
 * The retry list holds the work not done for a photo, whoever noted it: a worker's failure (the
 * entry `failed`) or the redrive pass that gave up its dead-lettered work (no entry, or an entry
 * older than that work). A photo never archived is looked up and queued; one whose entry predates
 * the give-up is queued only when iCloud's record differs from the archived one; one written since
 * leaves the list without a lookup.
 */
import { describe, expect, it } from 'vitest';
import { retryFailedPhotos } from '#domain/detect/retry-failed-photos.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import type { AssetLookupKey, AssetSource } from '#ports/asset-source.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { photoAsset, ZONE } from '#test/handlers/handler-doubles.ts';

const T = 1_800_000_000_000;

function archived(name: string, assetChangeTag: string): ManifestEntryInput {
  const asset = photoAsset(name, 10);
  return {
    zone: ZONE,
    assetRecordName: asset.assetRecordName,
    masterRecordName: asset.masterRecordName,
    assetChangeTag,
    status: 'archived',
    flags: { isFavorite: false, isHidden: false, isDeleted: false },
    albums: [],
    versions: [],
    deletions: [],
  };
}

async function setUp() {
  let now = T;
  const state = new InMemorySyncStateStore({ now: () => now });
  const looked: string[] = [];
  const queued: ZoneChange[] = [];
  // iCloud serves every photo at change tag `a2`.
  const source = {
    lookupAssets: async (_zone: unknown, keys: readonly AssetLookupKey[]) => {
      looked.push(...keys.map((k) => k.assetRecordName));
      return {
        assets: keys.map((k) => ({
          ...photoAsset(k.assetRecordName.replace('asset-', ''), 10),
          assetChangeTag: 'a2',
        })),
        missing: [],
        unavailable: [],
      };
    },
  } as unknown as AssetSource;
  const retry = async () => {
    const { retries } = await state.loadZonesAndRetries();
    await retryFailedPhotos(
      { source, state, now: () => now, enqueue: async (changes) => void queued.push(...changes) },
      ZONE,
      retries,
    );
  };
  return { state, looked, queued, retry, at: (t: number) => (now = t) };
}

describe('a photo whose dead-lettered work was given up', () => {
  it('is looked up and queued when it was never archived, and stays listed until it is', async () => {
    const { state, looked, queued, retry, at } = await setUp();
    await state.noteFailedForRetry({ zone: ZONE, assetRecordName: 'asset-new' }, T);

    at(T + 1_000);
    await retry();

    expect(looked).toEqual(['asset-new']);
    expect(queued.map((c) => c.type === 'asset' && c.asset.assetRecordName)).toEqual(['asset-new']);
    expect((await state.loadZonesAndRetries()).retries.map((r) => r.tries)).toEqual([1]);
  });

  it('is queued when its entry predates the give-up and holds another record than iCloud', async () => {
    const { state, queued, retry, at } = await setUp();
    await state.putEntry(archived('edited', 'a1'), 0);
    at(T + 1_000);
    await state.noteFailedForRetry({ zone: ZONE, assetRecordName: 'asset-edited' }, T + 1_000);

    at(T + 2_000);
    await retry();

    expect(queued.map((c) => c.type === 'asset' && c.asset.assetChangeTag)).toEqual(['a2']);
    expect((await state.loadZonesAndRetries()).retries).toHaveLength(1);
  });

  it('leaves the list without a download when the archive already holds what iCloud serves', async () => {
    const { state, looked, queued, retry, at } = await setUp();
    await state.putEntry(archived('current', 'a2'), 0);
    at(T + 1_000);
    await state.noteFailedForRetry({ zone: ZONE, assetRecordName: 'asset-current' }, T + 1_000);

    at(T + 2_000);
    await retry();

    expect(looked).toEqual(['asset-current']);
    expect(queued).toEqual([]);
    expect((await state.loadZonesAndRetries()).retries).toEqual([]);
  });

  it('leaves the list without a lookup once its entry was written since', async () => {
    const { state, looked, retry, at } = await setUp();
    await state.noteFailedForRetry({ zone: ZONE, assetRecordName: 'asset-done' }, T);
    at(T + 1_000);
    await state.putEntry(archived('done', 'a1'), 0);

    at(T + 2_000);
    await retry();

    expect(looked).toEqual([]);
    expect((await state.loadZonesAndRetries()).retries).toEqual([]);
  });
});
