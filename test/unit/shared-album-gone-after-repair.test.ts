/**
 * A Shared Album gone item issued before the album came back and delivered after a `verify
 * --repair` of the album (a redriven dead letter). The repair's hand-out
 * (app/repair-shared-albums.ts) writes no `enqueuedAt`, the field finding 87 orders a gone item
 * against; the gone item must still leave the live album's files (mirror): the list records the
 * album live (no goneAt), so the item does nothing (finding 91).
 */
import { describe, expect, it } from 'vitest';
import { repairSharedObjects, sharedWorkMessage } from '#app/repair-shared-albums.ts';
import {
  goneWorldAlbum,
  goneWorldItem,
  sharedAlbumGoneWorld,
} from '#test/helpers/shared-album-gone-world.ts';

const album = goneWorldAlbum;
const item = goneWorldItem;

const world = sharedAlbumGoneWorld;

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
