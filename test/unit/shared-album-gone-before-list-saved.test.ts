/**
 * An album that left the account's view: the detector hands its work out before it saves the
 * album list that marks it gone (the queue is durable first). A worker that takes the work at once
 * reads the list without `goneAt`: it leaves the work for a redelivery (finding 91), and then its
 * view and catalog lines must say the time the list says, not the worker's own clock (seen under
 * load as a `goneAt` 300 ms apart in test/e2e/pipeline-shared-collections.test.ts).
 */
import { expect, it } from 'vitest';
import type { WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import { detectSharedAlbums } from '#domain/shared-albums/detect-shared-albums.ts';
import { GoneNotRecordedError } from '#domain/shared-albums/errors.ts';
import type { EnqueueReceipt } from '#ports/work-queue.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { sampleSharedAlbum, sampleSharedItem } from '#test/fakes/shared-album-samples.ts';

const album = sampleSharedAlbum('A', 'Family');

/** A queue whose consumer takes each message as soon as it is sent (as SQS may). */
class DeliveredAtOnceQueue extends InMemoryWorkQueue {
  constructor(private readonly consume: (message: WorkMessage) => Promise<void>) {
    super();
  }
  override async enqueue(messages: readonly WorkMessage[]): Promise<EnqueueReceipt> {
    const receipt = await super.enqueue(messages);
    for (const { message } of this.receive(100)) await this.consume(message);
    return receipt;
  }
}

it('a gone album whose work is done before the detector saves the list says, in its view and catalog lines, the goneAt the list says', async () => {
  const source = new ListedSharedAlbumSource();
  const sharedState = new InMemorySharedAlbumStateStore();
  const objects = new InMemoryObjectStore();
  // Every reading of the clock is 300 ms after the one before (a loaded machine).
  let clock = 1_000_000;
  const now = () => (clock += 300);
  const worker = {
    source,
    sharedState,
    state: new InMemorySyncStateStore(),
    objects,
    downloader: new ByteServingDownloader(),
    deletePolicy: DEFAULT_DELETE_POLICY,
    comments: false,
    now,
  };
  // Work the worker left for a redelivery (the list did not record the album gone yet).
  const redeliveries: WorkMessage[] = [];
  const consume = async (message: WorkMessage) => {
    try {
      await archiveItems(message);
    } catch (error) {
      if (!(error instanceof GoneNotRecordedError)) throw error;
      redeliveries.push(message);
    }
  };
  const archiveItems = async (message: WorkMessage) => {
    for (const item of message.items) {
      if (item.type === 'sharedAlbum')
        await archiveSharedAlbum(worker, item.album, item.gone === true, message.issuedAt);
    }
  };
  const detect = () =>
    detectSharedAlbums({
      source,
      state: sharedState,
      queue: new DeliveredAtOnceQueue(consume),
      deletePolicy: DEFAULT_DELETE_POLICY,
      archiveObjects: async () => 1000,
      cadenceMs: 0,
      now,
      runId: 'run',
      runStartedAt: clock,
    });
  source.put(album, [sampleSharedItem('i1')]);
  await detect();
  source.albums.delete('A');
  await detect();
  expect(redeliveries).toHaveLength(1);
  for (const message of redeliveries.splice(0)) await archiveItems(message);

  const goneAt = (await sharedState.loadAlbums())!.albums['A']?.goneAt;
  expect(goneAt).toBeDefined();
  const read = async (key: string) => {
    const got = await objects.getStream(key);
    return Buffer.concat(await got!.body.toArray()).toString('utf8');
  };
  const view = JSON.parse(await read('shared-albums/Family/album.json'));
  expect(view.goneAt).toBe(new Date(goneAt!).toISOString());
  const catalog = JSON.parse((await read('catalog/shared-albums/A.jsonl')).trim().split('\n')[0]!);
  expect(catalog.sharedAlbum.goneAt).toBe(new Date(goneAt!).toISOString());
});
