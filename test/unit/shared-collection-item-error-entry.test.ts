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
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const ZONE = 'SharedCollection-7B1E0000-0000-4000-8000-0000000000AA';
const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 100_000 };

const album = (ctag: string): SharedAlbum => ({
  albumguid: ZONE,
  name: 'Family',
  location: '',
  ctag,
  ownerDsid: '_owner',
  sharingType: 'owned',
  isPublic: false,
  collection: { database: 'private', zoneName: ZONE, ownerRecordName: '_owner' },
});

const master = (n: number) => ({
  recordName: `M${n}`,
  recordType: 'CPLMaster',
  recordChangeTag: 'm1',
  fields: {
    resOriginalRes: {
      value: {
        downloadURL: `https://cdn.test/item${n}?size=32`,
        fileChecksum: Buffer.from(`checksum-of-item-${n}`.padEnd(21, '.')).toString('base64'),
        size: 32,
      },
    },
    resOriginalFileType: { value: 'public.jpeg' },
    originalCreationDate: { value: Date.UTC(2026, 4, 3) },
  },
});
const asset = (n: number, tag = 'a1') => ({
  recordName: `A${n}`,
  recordType: 'CPLAsset',
  recordChangeTag: tag,
  fields: { masterRef: { value: { recordName: `M${n}` } }, addedDate: { value: Date.UTC(2026, 4, 3) } },
});

/** A zone served as `changes/zone` pages of `perPage` records, `moreComing` until the last. */
function zoneOf(records: readonly unknown[], perPage: number) {
  const calls = { pages: 0 };
  const client = {
    async changesZone(_zone: unknown, token?: string) {
      calls.pages++;
      const at = token === undefined ? 0 : Number(token);
      const next = at + perPage;
      return {
        records: records.slice(at, next),
        syncToken: String(Math.min(next, records.length)),
        moreComing: next < records.length,
      };
    },
  } as unknown as CloudKitRecordsClient;
  return { client, calls };
}

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
      deps(zoneOf([master(0), asset(0), master(1), asset(1)], 200).client),
      album('t1'),
      false,
    );
    expect(first.stored).toBe(2);
    const key1 = (await sharedState.loadItems(ZONE)).find((i) => i.assetGuid === 'A1')!.key;
    const errorEntry = { recordName: 'A1', serverErrorCode: 'TRY_AGAIN_LATER', reason: 'try again later' };
    const second = await archiveSharedAlbum(
      deps(zoneOf([master(0), asset(0), master(1), errorEntry], 200).client),
      album('t2'),
      false,
    );
    const kept = (await objects.head(key1)) !== undefined;
    expect({ removed: second.removed, objectsDeleted: second.objectsDeleted, kept }).toEqual({
      removed: 0,
      objectsDeleted: 0,
      kept: true,
    });
    expect(second.failures.map((f) => f.reason)).toEqual([expect.stringContaining('A1')]);
    expect((await sharedState.loadAlbums())?.albums[ZONE]?.retry).toBeDefined();
  });
});
