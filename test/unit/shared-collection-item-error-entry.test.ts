/**
 * A new-generation album's item whose CPLAsset `changes/zone` serves as an inline error entry
 * (`{recordName, serverErrorCode, reason}`, docs/protocol/cloudkit.md: records the server cannot
 * read come inline) is a problem of the read, not a removal: the item stays, its object is kept
 * under `mirror`, and the album is left to retry. Found by the deletion audit of session 14 (the
 * entry was dropped without a word and the item deleted). Scripted CloudKit answers, the real
 * adapter and worker step.
 */
import { describe, expect, it } from 'vitest';
import type { CloudKitRecordsClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import { SharedCollectionsItems } from '#adapters/icloud/shared-collections/shared-collections-source.ts';
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

describe('a new-generation album item served as an error entry', () => {
  it('is reported, not removed, and its object is kept under mirror', async () => {
    const objects = new InMemoryObjectStore();
    const sharedState = new InMemorySharedAlbumStateStore();
    const state = new InMemorySyncStateStore();
    await state.adjustCounters({ objects: 1000 });
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
    const first = await archiveSharedAlbum(
      deps(
        zoneOf([collectionMaster(0), collectionAsset(0), collectionMaster(1), collectionAsset(1)], 200)
          .client,
      ),
      collectionAlbum('t1'),
      false,
    );
    expect(first.stored).toBe(2);
    const key1 = (await sharedState.loadItems(COLLECTION_ZONE)).find((i) => i.assetGuid === 'A1')!.key;
    const errorEntry = { recordName: 'A1', serverErrorCode: 'TRY_AGAIN_LATER', reason: 'try again later' };
    const second = await archiveSharedAlbum(
      deps(zoneOf([collectionMaster(0), collectionAsset(0), collectionMaster(1), errorEntry], 200).client),
      collectionAlbum('t2'),
      false,
    );
    const kept = (await objects.head(key1)) !== undefined;
    expect({ removed: second.removed, objectsDeleted: second.objectsDeleted, kept }).toEqual({
      removed: 0,
      objectsDeleted: 0,
      kept: true,
    });
    expect(second.failures.map((f) => f.reason)).toEqual([expect.stringContaining('A1')]);
    expect((await sharedState.loadAlbums())?.albums[COLLECTION_ZONE]?.retry).toBeDefined();
  });
});
