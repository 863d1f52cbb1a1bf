/**
 * A Shared Album listed missing for one run within the hour of its last hand-out (reliability
 * finding 102). The detector did not hand an album out again for the same ctag within
 * REQUEUE_AFTER_MS, even when it was marked gone in between: back in the listing it kept its
 * goneAt (status said gone), got no new hand-out, so a late gone item was not seen as stale and
 * deleted the live album's files under mirror, until the hour passed and everything was downloaded
 * again. An album marked gone is now handed out at once when it is listed again.
 */
import { describe, expect, it } from 'vitest';
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

const album: SharedAlbum = {
  albumguid: 'A',
  name: 'Family',
  location: 'https://p101-sharedstreams.icloud.com:443/A/sharedstreams/',
  ctag: '1',
  ownerDsid: '100',
  sharingType: 'subscribed',
  isPublic: false,
};

const item = (guid: string): SharedItem => ({
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

function world(mode: 'mirror' | 'keep', queue = new InMemoryWorkQueue()) {
  const deletePolicy = { ...DEFAULT_DELETE_POLICY, mode, maxDeleteFraction: 1 };
  const source = new ListedSharedAlbumSource();
  const sharedState = new InMemorySharedAlbumStateStore();
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
      { issuedAt: message.issuedAt },
    );
  };
  const files = async () => {
    const out: string[] = [];
    for await (const o of objects.list('shared-albums/')) if (!o.key.endsWith('album.json')) out.push(o.key);
    return out;
  };
  const tick = (ms: number) => {
    clock += ms;
  };
  return { source, sharedState, objects, queue, detect, work, files, tick };
}

describe('a Shared Album listed missing once within the hour of its last hand-out', () => {
  it('is live again on the next run, and a late gone item leaves its files (mirror)', async () => {
    const { source, sharedState, detect, work, files, tick, queue } = world('mirror');
    // Run 0: a photo added to an active album: handed out and archived.
    source.put(album, [item('i1'), item('i2')]);
    await detect();
    for (const w of queue.receive(10)) await work(w.message);
    expect(await files()).toHaveLength(2);

    // Run 1, 15 minutes later: the listing misses the album once; its gone item's delivery fails.
    source.albums.delete('A');
    tick(15 * 60_000);
    await detect();
    const [goneItem] = queue.receive(10);
    expect(goneItem?.message.items[0]).toMatchObject({ gone: true });

    // Run 2, 15 minutes later: listed again, same ctag.
    source.put(album, [item('i1'), item('i2')]);
    tick(15 * 60_000);
    await detect();
    for (const w of queue.receive(10)) await work(w.message);
    const afterReturn = (await sharedState.loadAlbums())?.albums['A'];

    // The older gone item is redelivered after the album came back.
    tick(10 * 60_000);
    await work(goneItem!.message);
    const filesAfterLateGone = await files();

    expect({ goneAt: afterReturn?.goneAt, files: filesAfterLateGone }).toEqual({
      goneAt: undefined,
      files: ['shared-albums/Family/2026-05-03/i1.JPG', 'shared-albums/Family/2026-05-03/i2.JPG'],
    });
  });
});
