/**
 * A Shared Album gone item issued before the album came back and delivered after a `verify
 * --repair` of the album (a redriven dead letter). The repair's hand-out
 * (app/repair-shared-albums.ts) writes no `enqueuedAt`, the field finding 87 orders a gone item
 * against; the gone item must still leave the live album's files (mirror): the list records the
 * album live (no goneAt), so the item does nothing (finding 91).
 */
import { describe, expect, it } from 'vitest';
import { repairSharedObjects, sharedWorkMessage } from '#app/repair-shared-albums.ts';
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
  return { source, sharedState, objects, queue, detect, work, files, tick, now: () => clock };
}

describe('a late Shared Album gone item after a verify --repair of the album', () => {
  it('under mirror leaves the files of the live album', async () => {
    const { source, sharedState, objects, detect, work, files, tick, queue, now } = world('mirror');
    source.put(album, [item('i1'), item('i2')]);
    await detect();
    for (const w of queue.receive(10)) await work(w.message);

    // Left (or listed missing once): the gone item's delivery fails (dead-letter queue).
    source.albums.delete('A');
    tick(90 * 24 * 60 * 60_000);
    await detect();
    const [goneItem] = queue.receive(10);
    expect(goneItem?.message.items[0]).toMatchObject({ gone: true });

    // Joined again: handed out and archived.
    source.put(album, [item('i1'), item('i2')]);
    tick(15 * 60_000);
    await detect();
    for (const w of queue.receive(10)) await work(w.message);
    expect(await files()).toHaveLength(2);

    // A day later, verify --repair finds one file missing and hands the album out again.
    tick(24 * 60 * 60_000);
    const missing = 'shared-albums/Family/2026-05-03/i1.JPG';
    await objects.delete(missing);
    const repaired = await repairSharedObjects(
      { sharedState, objects, now },
      new Map([[missing, 'missing' as const]]),
    );
    for (const m of sharedWorkMessage(repaired.work, 'repair', now())) await work(m);
    expect(await files()).toHaveLength(2);

    // The dead letter is redriven: the old gone item is done.
    tick(60 * 60_000);
    await work(goneItem!.message);

    // Later runs: the album is live in iCloud, unchanged.
    tick(15 * 60_000);
    await detect();
    for (const w of queue.receive(10)) await work(w.message);
    tick(24 * 60 * 60_000);
    await detect();
    for (const w of queue.receive(10)) await work(w.message);

    expect(await files()).toEqual([
      'shared-albums/Family/2026-05-03/i1.JPG',
      'shared-albums/Family/2026-05-03/i2.JPG',
    ]);
  });
});
