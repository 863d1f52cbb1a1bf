/**
 * A Shared Album left and joined again (or listed missing for one run), whose
 * `gone` work item is delivered after the newer item that brought it back (SQS out of order, a
 * retry after the visibility timeout, a dead letter redriven hours later). Library items keep the
 * order through `stateAt` (reliability finding 52); a Shared Album's `gone` item checks nothing:
 * under `mirror` it deletes every file of a live album, and the next detection, finding the album's
 * ctag archived and no `goneAt`, hands nothing out, so the files stay missing while the album is
 * in iCloud (reliability finding 87). The gone item now does nothing when the album was handed out
 * live after it was issued; one done before the detector saved the list is retried, and does its
 * work once the list records the album gone (finding 91).
 */
import { describe, expect, it } from 'vitest';
import { classifyError } from '#domain/errors.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import {
  goneWorldAlbum,
  goneWorldItem,
  sharedAlbumGoneWorld,
} from '#test/helpers/shared-album-gone-world.ts';

const album = goneWorldAlbum;
const item = goneWorldItem;

const world = sharedAlbumGoneWorld;

async function scenario(mode: 'mirror' | 'keep') {
  const { source, sharedState, objects, queue, detect, work, files, tick } = world(mode);

  // Year 1: joined, archived.
  source.put(album, [item('i1'), item('i2')]);
  await detect();
  for (const w of queue.receive(10)) await work(w.message);
  expect(await files()).toHaveLength(2);

  // Months later, run N: the album is not listed (left it); its gone item is queued but its
  // delivery fails (or it lands in the dead-letter queue).
  source.albums.delete('A');
  tick(90 * 24 * 60 * 60_000);
  await detect();
  const [goneItem] = queue.receive(10);
  expect(goneItem?.message.items[0]).toMatchObject({ gone: true });

  // Run N+1: joined again (same album, same ctag); its item is done first.
  source.put(album, [item('i1'), item('i2')]);
  tick(15 * 60_000);
  await detect();
  for (const w of queue.receive(10)) await work(w.message);
  expect(await files()).toHaveLength(2);

  // The older gone item is redelivered (retry, or a redriven dead letter) and done last.
  tick(60 * 60_000);
  await work(goneItem!.message);

  // Later runs: the album is live in iCloud, unchanged.
  tick(15 * 60_000);
  await detect();
  for (const w of queue.receive(10)) await work(w.message);
  tick(24 * 60 * 60_000);
  await detect();
  for (const w of queue.receive(10)) await work(w.message);

  const got = await objects.getStream('shared-albums/Family/album.json');
  const view = JSON.parse(Buffer.concat(await got!.body.toArray()).toString('utf8')) as { goneAt?: string };
  return { files: await files(), view, stored: (await sharedState.loadAlbums())?.albums['A'] };
}

describe('a Shared Album gone item delivered after the item that brought the album back', () => {
  it('under mirror leaves the files of a live album in the bucket', async () => {
    const { files } = await scenario('mirror');
    expect(files).toEqual([
      'shared-albums/Family/2026-05-03/i1.JPG',
      'shared-albums/Family/2026-05-03/i2.JPG',
    ]);
  });

  it("under keep does not leave the live album's view saying it is gone", async () => {
    const { view, stored } = await scenario('keep');
    expect(stored?.goneAt).toBeUndefined();
    expect(view.goneAt).toBeUndefined();
  });

  it('a gone item done before the detector saved the list is retried, and deletes under mirror then', async () => {
    // The detector enqueues before it saves the list: a quick worker finds no goneAt yet. It no
    // longer acts on that (a lost save would leave a live album deleted, finding 91): it is retried,
    // and its redelivery (after the visibility timeout) finds the album recorded gone.
    class WorkingQueue extends InMemoryWorkQueue {
      onEnqueue: (() => Promise<void>) | undefined;
      override async enqueue(messages: Parameters<InMemoryWorkQueue['enqueue']>[0]) {
        const receipt = await super.enqueue(messages);
        await this.onEnqueue?.();
        return receipt;
      }
    }
    const queue = new WorkingQueue();
    const { source, sharedState, detect, work, files, tick } = world('mirror', { queue });
    source.put(album, [item('i1'), item('i2')]);
    await detect();
    for (const w of queue.receive(10)) await work(w.message);
    expect(await files()).toHaveLength(2);

    source.albums.delete('A');
    tick(15 * 60_000);
    let before: number | undefined = -1;
    let early: WorkMessage | undefined;
    let earlyError: unknown;
    queue.onEnqueue = async () => {
      before = (await sharedState.loadAlbums())?.albums['A']?.goneAt;
      [early] = queue.receive(10).map((w) => w.message);
      earlyError = await work(early!).then(
        () => undefined,
        (error: unknown) => error,
      );
    };
    await detect();
    expect(before).toBeUndefined();
    expect(classifyError(earlyError)).toBe('retryable');
    expect(await files()).toHaveLength(2);
    tick(90 * 60_000);
    await work(early!);
    expect(await files()).toEqual([]);
  });
});
