/**
 * Audit (session 15, cost): an album one of whose members never gets a manifest entry (a record
 * CloudKit would not serve through every lookup, work given up in the dead-letter queue: both
 * "told once" by WorkGivenUp) stays `viewStale` for ever (`waiting > 0`, functions/app/album-views.ts
 * `itemsOf` and the `viewStale: missing > 0 || ...` of `writeView`). Every scheduled detection run
 * then reads the album's whole member list and one manifest entry per member, one GetItem after
 * the other, for as long as the archive lives: with a 1,000-photo album, 1,000 GetItems a run,
 * 2.88 million a month on the 15-minute schedule (~$0.36 of strongly consistent reads) and ~5 s of
 * a 512 MB detector a run (~$0.10), growing with the album. Nothing the view can show changes
 * between those runs unless a worker archives something.
 */
import { expect, it } from 'vitest';
import { refreshAlbumViews } from '#app/album-views.ts';
import { replaceAlbumMembers } from '#domain/albums/record-albums.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const zone = { database: 'private', zoneName: 'PrimarySync' } as const;
const HOUR = 60 * 60 * 1000;
const MEMBERS = 1_000;

const entry = (name: string): ManifestEntryInput => ({
  zone,
  assetRecordName: name,
  masterRecordName: `M-${name}`,
  assetChangeTag: 'a',
  status: 'archived',
  flags: { isFavorite: false, isHidden: false, isDeleted: false },
  albums: [],
  versions: [
    {
      kind: 'original',
      key: `library/2024/2024-01-01/${name}.HEIC`,
      size: 1,
      sha256: 'a'.repeat(64),
      md5: 'b'.repeat(32),
      fileChecksum: 'c',
      archivedAt: 0,
    },
  ],
  deletions: [],
});

/** The store, counting the manifest reads of the album-view pass. */
class CountingStore extends InMemorySyncStateStore {
  entryReads = 0;
  override async getEntry(...args: Parameters<InMemorySyncStateStore['getEntry']>) {
    this.entryReads += 1;
    return super.getEntry(...args);
  }
}

it('stops re-reading an album whose one missing member nothing will archive, once its changes settled', async () => {
  const state = new CountingStore();
  const members = Array.from({ length: MEMBERS }, (_, i) => `P${i}`);
  // Every member archived but one: its record was given up (no entry, ever).
  for (const name of members.slice(1)) await state.putEntry(entry(name), 0);
  await state.saveAlbum(
    {
      zone,
      recordName: 'A1',
      name: 'Holidays',
      kind: 'album',
      albumType: 0,
      deleted: false,
      viewStale: true,
    },
    0,
  );
  await state.putAlbumMembers(
    { zone, recordName: 'A1' },
    members.map((assetRecordName, position) => ({ assetRecordName, position })),
  );
  let now = Date.now();
  const deps = { albums: state, state, objects: new InMemoryObjectStore(), settleMs: HOUR, now: () => now };

  // The run after the change writes the view with the 999 archived photos.
  expect(await refreshAlbumViews(deps)).toMatchObject({ written: 1, waiting: 1 });
  // A day of idle 15-minute runs later, nothing changed in iCloud or in the archive.
  const before = state.entryReads;
  for (let run = 0; run < 96; run++) {
    now += 15 * 60 * 1000;
    await refreshAlbumViews(deps);
  }
  const perDay = state.entryReads - before;
  // At most the settle hour's four passes re-read the album; then it rests.
  expect(perDay).toBeLessThanOrEqual(4 * MEMBERS);
});

/** The store, counting every manifest entry read, one at a time or batched (each is a read unit). */
class ItemCountingStore extends InMemorySyncStateStore {
  itemsRead = 0;
  override async getEntry(...args: Parameters<InMemorySyncStateStore['getEntry']>) {
    this.itemsRead += 1;
    return super.getEntry(...args);
  }
  override async getEntries(...args: Parameters<InMemorySyncStateStore['getEntries']>) {
    this.itemsRead += args[0].length;
    return super.getEntries(...args);
  }
}

async function waitingAlbum(state: InMemorySyncStateStore, members: readonly string[]) {
  for (const name of members.slice(1)) await state.putEntry(entry(name), 0);
  await state.saveAlbum(
    {
      zone,
      recordName: 'A1',
      name: 'Holidays',
      kind: 'album',
      albumType: 0,
      deleted: false,
      viewStale: true,
    },
    0,
  );
  await state.putAlbumMembers(
    { zone, recordName: 'A1' },
    members.map((assetRecordName, position) => ({ assetRecordName, position })),
  );
}

it('reads a waiting album again on the backoff once settled, in batches, and shows the member when it comes', async () => {
  const members = Array.from({ length: 100 }, (_, i) => `P${i}`);
  let now = Date.now();
  const state = new ItemCountingStore({ now: () => now });
  await waitingAlbum(state, members);
  const objects = new InMemoryObjectStore();
  const deps = { albums: state, state, objects, settleMs: HOUR, now: () => now };
  const passes: number[] = [];
  const runFor = async (ms: number) => {
    for (let end = now + ms; now < end; ) {
      now += 15 * 60 * 1000;
      const before = state.itemsRead;
      await refreshAlbumViews(deps);
      if (state.itemsRead > before) passes.push(now);
    }
  };
  await refreshAlbumViews(deps);
  await runFor(24 * HOUR);
  // The settle hour's passes, then 1, 2, 4, 8 hours apart (the next is 16 hours on): 8 in the first
  // day, not 96.
  expect(passes).toHaveLength(8);
  expect(state.batchReads).toBeGreaterThan(0);
  passes.length = 0;
  await runFor(24 * HOUR);
  expect(passes.length).toBeLessThanOrEqual(2);

  // The member's work finally done (a redrive): the view shows it by the next due pass at the latest.
  await state.putEntry(entry('P0'), 0);
  await runFor(25 * HOUR);
  const got = await objects.getStream('albums/Holidays.json');
  const chunks: Buffer[] = [];
  for await (const chunk of got?.body ?? []) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).toString('utf8')).toContain('P0.HEIC');
  const album = await state.loadAlbum({ zone, recordName: 'A1' });
  expect(album).toMatchObject({ viewStale: false });
  expect(album?.view?.recheck).toBeUndefined();
});

it('wakes a resting album at once when detection marks it again', async () => {
  const members = Array.from({ length: 10 }, (_, i) => `P${i}`);
  let now = Date.now();
  const state = new ItemCountingStore({ now: () => now });
  await waitingAlbum(state, members);
  const deps = { albums: state, state, objects: new InMemoryObjectStore(), settleMs: HOUR, now: () => now };
  for (let run = 0; run < 6; run++) {
    await refreshAlbumViews(deps);
    now += 15 * 60 * 1000;
  }
  expect((await state.loadAlbum({ zone, recordName: 'A1' }))?.view?.recheck).toBeDefined();
  // A member added in iCloud: detection marks the album stale again.
  await state.putEntry(entry('P10'), 0);
  const ref = { zone, recordName: 'A1' };
  const all = [...members, 'P10'].map((assetRecordName, position) => ({ assetRecordName, position }));
  expect(await replaceAlbumMembers(state, ref, all, () => state.loadAlbum(ref))).toBe(true);
  const before = state.itemsRead;
  await refreshAlbumViews(deps);
  expect(state.itemsRead - before).toBe(11);
});
