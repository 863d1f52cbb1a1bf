/**
 * A Shared Album listed missing for one run within the hour of its last hand-out (reliability
 * finding 102). The detector did not hand an album out again for the same ctag within
 * REQUEUE_AFTER_MS, even when it was marked gone in between: back in the listing it kept its
 * goneAt (status said gone), got no new hand-out, so a late gone item was not seen as stale and
 * deleted the live album's files under mirror, until the hour passed and everything was downloaded
 * again. An album marked gone is now handed out at once when it is listed again.
 */
import { describe, expect, it } from 'vitest';
import {
  goneWorldAlbum,
  goneWorldItem,
  sharedAlbumGoneWorld,
} from '#test/helpers/shared-album-gone-world.ts';

const album = goneWorldAlbum;
const item = goneWorldItem;

const world = sharedAlbumGoneWorld;

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
