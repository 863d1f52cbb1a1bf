/**
 * One Shared Album, its items, the detector's step and the worker's archive over in-memory fakes,
 * with a clock the test moves: the world of the gone-item tests (reliability findings 87, 91, 102).
 */
import type { WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import { detectSharedAlbums } from '#domain/shared-albums/detect-shared-albums.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { sampleSharedAlbum, sampleSharedItem } from '#test/fakes/shared-album-samples.ts';

/** The album the gone-item tests follow: `Family`, subscribed. */
export const goneWorldAlbum = sampleSharedAlbum('A', 'Family');

/** One of its items, showing its own file. */
export const goneWorldItem = (guid: string) => sampleSharedItem(guid);

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
