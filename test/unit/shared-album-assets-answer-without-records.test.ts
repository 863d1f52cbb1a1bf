/**
 * A legacy album's `webgetassets` answered 200 with a JSON body that has no `records` field (an
 * error object, say) is a malformed answer (a retryable error naming the field), not an empty
 * album: no item is removed and no object deleted under `mirror`. Found by the deletion audit of
 * session 14 (the field defaulted to `[]`, so the worker took every archived item for removed).
 * Real adapter over scripted HTTP, real worker step.
 */
import { describe, expect, it } from 'vitest';
import type { IcloudHttp, IcloudHttpRequest, IcloudHttpResponse } from '#adapters/icloud/http/types.ts';
import { SharedStreamsClient } from '#adapters/icloud/sharedstreams/sharedstreams-client.ts';
import { SharedStreamsItems } from '#adapters/icloud/sharedstreams/sharedstreams-source.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 100_000 };
const album: SharedAlbum = {
  albumguid: 'ALBUM-1',
  name: 'Family',
  location: 'https://p101-sharedstreams.icloud.com:443/ALBUM-1/sharedstreams/',
  ctag: 'c1',
  ownerDsid: '100',
  sharingType: 'owned',
  isPublic: false,
};

const records = (n: number) => [
  {
    recordName: `M${n}`,
    recordType: 'CPLMaster',
    recordChangeTag: 'm1',
    fields: {
      resOriginalRes: {
        value: {
          downloadURL: `https://cdn.test/item${n}?size=32`,
          fileChecksum: Buffer.from(`checksum-of-item-${n}`.padEnd(21, '.')).toString('base64'),
          size: 0,
        },
      },
      resOriginalFileSize: { value: 32 },
      resOriginalFileType: { value: 'public.jpeg' },
    },
  },
  {
    recordName: `A${n}`,
    recordType: 'CPLAsset',
    recordChangeTag: 'a1',
    fields: { masterRef: { value: { recordName: `M${n}` } }, addedDate: { value: Date.UTC(2026, 4, 3) } },
  },
];

/** `webgetassets` answers `assets()` (200), `getcomments` an empty list. */
function scripted(assets: () => unknown): IcloudHttp {
  return {
    async send(request: IcloudHttpRequest): Promise<IcloudHttpResponse> {
      const body = JSON.stringify(request.url.includes('webgetassets') ? assets() : { comments: [] });
      return {
        status: 200,
        headers: new Headers({ 'content-type': 'application/json' }),
        url: request.url,
        text: async () => body,
        json: async () => JSON.parse(body),
        body: null,
      };
    },
  };
}

describe('a webgetassets answer without records', () => {
  it('is a retryable malformed answer: under mirror no item is removed nor object deleted', async () => {
    let answer: unknown = { records: [...records(1), ...records(2)] };
    const client = new SharedStreamsClient({
      http: scripted(() => answer),
      baseUrl: () => 'https://p101-sharedstreams.icloud.com:443',
      dsid: '100',
      clientId: 'client',
      retry: { sleep: async () => undefined },
    });
    const objects = new InMemoryObjectStore();
    const state = new InMemorySyncStateStore();
    await state.adjustCounters({ objects: 1000 });
    const deps = {
      source: new SharedStreamsItems(client),
      sharedState: new InMemorySharedAlbumStateStore(),
      state,
      objects,
      downloader: new ByteServingDownloader(),
      deletePolicy: MIRROR,
      comments: true,
      now: () => 5,
    };
    expect((await archiveSharedAlbum(deps, album, false)).stored).toBe(2);
    const keys = (await deps.sharedState.loadItems('ALBUM-1')).map((i) => i.key);

    answer = { status: 'try again later' };
    await expect(archiveSharedAlbum(deps, album, false)).rejects.toThrow(/webgetassets.*records/);
    const kept: string[] = [];
    for (const key of keys) if (await objects.head(key)) kept.push(key);
    const removed = (await deps.sharedState.loadItems('ALBUM-1')).filter((i) => i.removedAt !== undefined);
    expect({ removed: removed.length, kept }).toEqual({ removed: 0, kept: keys });
  });
});
