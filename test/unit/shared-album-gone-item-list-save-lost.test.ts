/**
 * A Shared Album's `gone` item is enqueued BEFORE the detector saves the album list that records
 * the album gone (`goneAt`). When that save is lost (a crash, the detector's timeout, a failed
 * write) and the next run lists the album again with the same ctag, the list still shows it
 * archived, no `goneAt`: nothing is handed out, and the gone item, delivered, found no later
 * hand-out (finding 87's check) and deleted every file of the LIVE album under `mirror`. A gone
 * item now acts only once the list records the album gone: before that it is retried while the
 * detector may still be saving, and after that it does nothing (the next listing decides).
 */
import { describe, expect, it } from 'vitest';
import { classifyError } from '#domain/errors.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { SharedAlbumsState } from '#domain/shared-albums/state.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import {
  goneWorldAlbum,
  goneWorldItem,
  sharedAlbumGoneWorld,
} from '#test/helpers/shared-album-gone-world.ts';

/** The work queue's visibility timeout in AWS (6 x the workers' 15 minutes): a failed delivery's next one. */
const REDELIVERY_MS = 90 * 60_000;
/** Receives before SQS parks a message in the dead-letter queue (infra/work-queue.ts). */
const MAX_RECEIVE_COUNT = 5;

/** The album list's store, whose next save can be lost (the detector timed out or crashed on it). */
class LosingSharedAlbumStateStore extends InMemorySharedAlbumStateStore {
  loseNextSave = false;
  /** Runs just before a save lands (a worker delivered meanwhile). */
  beforeSave: (() => Promise<void>) | undefined;
  override async saveAlbums(state: Omit<SharedAlbumsState, 'revision'>, expectedRevision: number) {
    if (this.loseNextSave) {
      this.loseNextSave = false;
      throw new Error('Task timed out after 300.00 seconds');
    }
    const before = this.beforeSave;
    this.beforeSave = undefined;
    await before?.();
    return super.saveAlbums(state, expectedRevision);
  }
}

const album = goneWorldAlbum;
const item = goneWorldItem;

function world(mode: 'mirror' | 'keep') {
  return sharedAlbumGoneWorld(mode, { sharedState: new LosingSharedAlbumStateStore() });
}

const LIVE = ['shared-albums/Family/2026-05-03/i1.JPG', 'shared-albums/Family/2026-05-03/i2.JPG'];

/** Archived, then missing from one listing whose list save is lost, then listed again unchanged. */
async function lostSave(mode: 'mirror' | 'keep') {
  const w = world(mode);
  w.source.put(album, [item('i1'), item('i2')]);
  await w.detect();
  for (const m of w.queue.receive(10)) await w.work(m.message);
  expect(await w.files()).toEqual(LIVE);

  // Run N: the album is not listed (a glitch, or left and joined again); its gone item is
  // enqueued, then the list's save is lost.
  w.source.albums.delete('A');
  w.tick(24 * 60 * 60_000);
  w.sharedState.loseNextSave = true;
  await expect(w.detect()).rejects.toThrow(/timed out/);
  const [goneItem] = w.queue.receive(10);
  expect(goneItem?.message.items[0]).toMatchObject({ gone: true });
  expect((await w.sharedState.loadAlbums())?.albums['A']?.goneAt).toBeUndefined();

  // Run N+1: listed again, same ctag: the list shows it archived, nothing is handed out.
  w.source.put(album, [item('i1'), item('i2')]);
  w.tick(15 * 60_000);
  await w.detect();
  expect(w.queue.receive(10)).toEqual([]);
  return { ...w, goneItem: goneItem! };
}

describe('a Shared Album gone item whose list save was lost', () => {
  it('under mirror, delivered after the next run, leaves the files of the live album', async () => {
    const w = await lostSave('mirror');
    w.tick(60_000);
    await w.work(w.goneItem.message);
    expect(await w.files()).toEqual(LIVE);
    expect((await w.sharedState.loadAlbums())?.albums['A']?.goneAt).toBeUndefined();
  });

  it('under keep, delivered after the next run, does not say the live album is gone', async () => {
    const w = await lostSave('keep');
    w.tick(60_000);
    await w.work(w.goneItem.message);
    expect((await w.view()).goneAt).toBeUndefined();
    expect((await w.sharedState.loadAlbums())?.albums['A']?.goneAt).toBeUndefined();
  });

  it('delivered at once, is retried, then does nothing once the save can no longer land', async () => {
    const w = world('mirror');
    w.source.put(album, [item('i1'), item('i2')]);
    await w.detect();
    for (const m of w.queue.receive(10)) await w.work(m.message);

    w.source.albums.delete('A');
    w.tick(24 * 60 * 60_000);
    w.sharedState.loseNextSave = true;
    await expect(w.detect()).rejects.toThrow(/timed out/);
    const [goneItem] = w.queue.receive(10);
    // First delivery seconds later: the detector may still be saving.
    w.tick(2_000);
    const first = await w.work(goneItem!.message).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(first).toBeInstanceOf(Error);
    expect(classifyError(first)).toBe('retryable');
    expect(await w.files()).toEqual(LIVE);
    // Redelivered after the visibility timeout: no goneAt, so the save was lost. It does nothing.
    w.tick(REDELIVERY_MS);
    await w.work(goneItem!.message);
    expect(await w.files()).toEqual(LIVE);
    // The next listing decides: still missing, a new gone item and a saved list; that one deletes.
    w.tick(60_000);
    await w.detect();
    const [again] = w.queue.receive(10);
    expect(again?.message.items[0]).toMatchObject({ gone: true });
    expect((await w.sharedState.loadAlbums())?.albums['A']?.goneAt).toBeDefined();
    await w.work(again!.message);
    expect(await w.files()).toEqual([]);
  });
});

describe('a Shared Album gone item delivered just before the detector saves the list', () => {
  it('is retried (never given up) and deletes under mirror once the save has landed', async () => {
    const w = world('mirror');
    w.source.put(album, [item('i1'), item('i2')]);
    await w.detect();
    for (const m of w.queue.receive(10)) await w.work(m.message);

    w.source.albums.delete('A');
    w.tick(24 * 60 * 60_000);
    let deliveries = 0;
    let goneItem: WorkMessage | undefined;
    const deliver = async (message: WorkMessage) => {
      deliveries++;
      return w.work(message).then(
        () => undefined,
        (error: unknown) => error,
      );
    };
    let firstError: unknown;
    w.sharedState.beforeSave = async () => {
      [goneItem] = w.queue.receive(10).map((m) => m.message);
      firstError = await deliver(goneItem!);
    };
    await w.detect();
    expect(firstError).toBeInstanceOf(Error);
    expect(classifyError(firstError)).toBe('retryable');
    expect(await w.files()).toEqual(LIVE);
    // The save landed a moment after; the redelivery (after the visibility timeout) does the work.
    w.tick(REDELIVERY_MS);
    expect(await deliver(goneItem!)).toBeUndefined();
    expect(await w.files()).toEqual([]);
    expect(deliveries).toBeLessThan(MAX_RECEIVE_COUNT);
    expect((await w.view()).goneAt).toBeDefined();
  });
});
