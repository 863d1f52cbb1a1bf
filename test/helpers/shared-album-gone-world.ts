/**
 * One Shared Album, its items, the detector's step and the worker's archive over in-memory fakes,
 * with a clock the test moves: the world of the gone-item tests (reliability findings 87, 91, 102).
 */
import type { WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import { detectSharedAlbums } from '#domain/shared-albums/detect-shared-albums.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

export const goneWorldAlbum: SharedAlbum = {
  albumguid: 'A',
  name: 'Family',
  location: 'https://p101-sharedstreams.icloud.com:443/A/sharedstreams/',
  ctag: '1',
  ownerDsid: '100',
  sharingType: 'subscribed',
  isPublic: false,
};

export const goneWorldItem = (guid: string): SharedItem => ({
  assetGuid: guid,
  masterRecordName: `M-${guid}`,
  changeTag: 'b0',
  fileName: `${guid}.JPG`,
  contributorDsid: '200',
  contributorName: 'Zoe',
  addedDate: Date.UTC(2026, 4, 3),
  captureDate: Date.UTC(2026, 4, 3, 12),
  rendition: {
    field: 'resOriginalRes',
    downloadUrl: `https://cdn.test/${guid}?size=32`,
    fileChecksum: Buffer.from(guid.padEnd(21, '.')).toString('base64'),
    size: 32,
    uti: 'public.jpeg',
    width: 2048,
    height: 1536,
  },
  likeCount: 0,
});

export function sharedAlbumGoneWorld<S extends InMemorySharedAlbumStateStore = InMemorySharedAlbumStateStore>(
  mode: 'mirror' | 'keep',
  options: { readonly queue?: InMemoryWorkQueue; readonly sharedState?: S } = {},
) {
  const deletePolicy = { ...DEFAULT_DELETE_POLICY, mode, maxDeleteFraction: 1 };
  const queue = options.queue ?? new InMemoryWorkQueue();
  const source = new ListedSharedAlbumSource();
  const sharedState = options.sharedState ?? (new InMemorySharedAlbumStateStore() as S);
  const state = new InMemorySyncStateStore();
  const objects = new InMemoryObjectStore();
  let clock = 1_000_000;
  const detect = () =>
    detectSharedAlbums({
      source,
      state: sharedState,
      queue,
      deletePolicy,
      archiveObjects: async () => 1000,
      cadenceMs: 0,
      now: () => clock,
      runId: `run-${clock}`,
      runStartedAt: clock,
    });
  // As the workers call it (app/shared-albums-work.ts): with the message's issuedAt.
  const work = (message: WorkMessage) => {
    const it = message.items[0];
    if (it?.type !== 'sharedAlbum') throw new Error('expected a shared album item');
    return archiveSharedAlbum(
      {
        source,
        sharedState,
        state,
        objects,
        downloader: new ByteServingDownloader(),
        deletePolicy,
        comments: false,
        now: () => clock,
        pageItems: 10,
      },
      it.album,
      it.gone === true,
      message.issuedAt,
    );
  };
  const files = async () => {
    const out: string[] = [];
    for await (const o of objects.list('shared-albums/')) if (!o.key.endsWith('album.json')) out.push(o.key);
    return out;
  };
  const view = async () => {
    const got = await objects.getStream('shared-albums/Family/album.json');
    return JSON.parse(Buffer.concat(await got!.body.toArray()).toString('utf8')) as { goneAt?: string };
  };
  const tick = (ms: number) => {
    clock += ms;
  };
  return { source, sharedState, objects, queue, detect, work, files, view, tick, now: () => clock };
}
