/**
 * A new-generation album's zone is read whole before its items count as the album: a zone of
 * more pages than an old 60-page cap once allowed (comments, posts and re-changed records count
 * too, and CloudKit may serve fewer than 200 records a page) is read to its end, and a read cut
 * short with `moreComing` still set is a page problem: it removes nothing, and the album is left
 * to retry. Found by the deletion audit of session 14 (an item past page 60 was deleted under
 * `mirror` though the album showed it). Scripted CloudKit answers, the real adapter and worker step.
 */
import { describe, expect, it } from 'vitest';
import type { CloudKitRecordsClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import {
  MAX_ZONE_PAGES,
  SharedCollectionsItems,
} from '#adapters/icloud/shared-collections/shared-collections-source.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import {
  COLLECTION_ZONE,
  collectionAlbum,
  collectionAsset,
  collectionMaster,
  MIRROR,
  zoneOf,
} from '#test/helpers/shared-collection-zone.ts';

const comment = (n: number) => ({
  recordName: `C${n}`,
  recordType: 'CPLTextComment',
  recordChangeTag: 'c1',
  fields: { associatedAssetRef: { value: { recordName: 'A0' } }, commentText: { value: `nice ${n}` } },
});

function setUp() {
  const objects = new InMemoryObjectStore();
  const sharedState = new InMemorySharedAlbumStateStore();
  const state = new InMemorySyncStateStore();
  const deps = (client: CloudKitRecordsClient) => ({
    source: new SharedCollectionsItems(client),
    sharedState,
    state,
    objects,
    downloader: new ByteServingDownloader(),
    deletePolicy: MIRROR,
    comments: true,
    now: () => 5,
  });
  return { objects, sharedState, state, deps };
}

/** Pass 1: two items, one page; both archived. Then a library large enough that one item is well under the 5 % stop. */
async function archivedTwo(s: ReturnType<typeof setUp>) {
  const first = await archiveSharedAlbum(
    s.deps(
      zoneOf([collectionMaster(0), collectionAsset(0), collectionMaster(1), collectionAsset(1)], 200).client,
    ),
    collectionAlbum('t1'),
    false,
  );
  expect(first.stored).toBe(2);
  const key1 = (await s.sharedState.loadItems(COLLECTION_ZONE)).find((i) => i.assetGuid === 'A1')!.key;
  await s.state.adjustCounters({ objects: 1000 });
  return key1;
}

describe('a new-generation album of many zone pages', () => {
  it('is read to its end: an item whose records come after page 60 is kept, not removed', async () => {
    const s = setUp();
    const key1 = await archivedTwo(s);
    // The album gathered comments (records of their own), and A1's asset changed (a new change
    // tag moves it to the end of a read from the zone's start). 604 records: 61 pages of 10.
    const comments = Array.from({ length: 600 }, (_, i) => comment(i));
    const grown = zoneOf(
      [collectionMaster(0), collectionAsset(0), collectionMaster(1), ...comments, collectionAsset(1, 'a2')],
      10,
    );
    const second = await archiveSharedAlbum(s.deps(grown.client), collectionAlbum('t2'), false);
    expect(grown.calls.pages).toBe(61);
    const kept = (await s.objects.head(key1)) !== undefined;
    expect({ removed: second.removed, objectsDeleted: second.objectsDeleted, kept }).toEqual({
      removed: 0,
      objectsDeleted: 0,
      kept: true,
    });
    expect(second.failures).toEqual([]);
  });

  it('still `moreComing` at the page cap: a problem that removes nothing, and the album is retried', async () => {
    const s = setUp();
    const key1 = await archivedTwo(s);
    // One record a page, A1's asset on the page after the cap.
    const comments = Array.from({ length: MAX_ZONE_PAGES - 3 }, (_, i) => comment(i));
    const endless = zoneOf(
      [collectionMaster(0), collectionAsset(0), collectionMaster(1), ...comments, collectionAsset(1, 'a2')],
      1,
    );
    const second = await archiveSharedAlbum(s.deps(endless.client), collectionAlbum('t2'), false);
    expect(endless.calls.pages).toBe(MAX_ZONE_PAGES);
    const kept = (await s.objects.head(key1)) !== undefined;
    expect({ removed: second.removed, objectsDeleted: second.objectsDeleted, kept }).toEqual({
      removed: 0,
      objectsDeleted: 0,
      kept: true,
    });
    expect(second.failures.map((f) => f.reason)).toEqual([
      expect.stringMatching(/still had more records after \d+ pages/),
    ]);
    // Not done at this tag: detection hands the album out again.
    expect((await s.sharedState.loadAlbums())?.albums[COLLECTION_ZONE]?.retry).toBeDefined();
  });
});
