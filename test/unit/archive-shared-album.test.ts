/**
 * The worker's part for one Shared Album, over in-memory stores: new items stored once and
 * labelled, the same file in two albums stored once and referenced, an expired URL re-read once,
 * removed items kept by default and deleted under mirror (unless another album still uses the
 * object, or the safety stop refuses).
 */
import { describe, expect, it } from 'vitest';
import { UnexpectedResponseError } from '#domain/errors.ts';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import type { StoredSharedItem } from '#domain/shared-albums/state.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

const album = (guid: string, name = `Album ${guid}`): SharedAlbum => ({
  albumguid: guid,
  name,
  location: `https://p101-sharedstreams.icloud.com:443/${guid}/sharedstreams/`,
  ctag: '1',
  ownerDsid: '100',
  sharingType: 'subscribed',
  isPublic: false,
});

const item = (guid: string, checksum: string, overrides: Partial<SharedItem> = {}): SharedItem => ({
  assetGuid: guid,
  masterRecordName: `M-${guid}`,
  changeTag: 'b0',
  fileName: `${guid}.JPG`,
  contributorDsid: '200',
  contributorName: 'Zoë <script>',
  addedDate: Date.UTC(2026, 4, 3),
  captureDate: Date.UTC(2026, 4, 3, 12),
  rendition: {
    field: 'resOriginalRes',
    downloadUrl: `https://cdn.test/${checksum}?size=32`,
    fileChecksum: Buffer.from(checksum.padEnd(21, '.')).toString('base64'),
    size: 32,
    uti: 'public.jpeg',
    width: 2048,
    height: 1536,
  },
  likeCount: 0,
  ...overrides,
});

/** Its first write of item records fails as a throttled DynamoDB request does (retryable). */
class ItemRecordsThrottledOnceStore extends InMemorySharedAlbumStateStore {
  #failed = false;
  override async putItems(albumguid: string, items: readonly StoredSharedItem[]): Promise<void> {
    if (!this.#failed && items.length > 0) {
      this.#failed = true;
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ThrottlingException',
        $retryable: { throttling: true },
      });
    }
    return super.putItems(albumguid, items);
  }
}

function setup(
  deletePolicy: DeletePolicy = DEFAULT_DELETE_POLICY,
  sharedState: InMemorySharedAlbumStateStore = new InMemorySharedAlbumStateStore(),
) {
  const source = new ListedSharedAlbumSource();
  const objects = new InMemoryObjectStore();
  const state = new InMemorySyncStateStore();
  const downloader = new ByteServingDownloader();
  const run = (a: SharedAlbum, gone = false) =>
    archiveSharedAlbum(
      {
        source,
        sharedState,
        state,
        objects,
        downloader,
        deletePolicy,
        comments: true,
        now: () => 5,
        pageItems: 2,
      },
      a,
      gone,
    );
  const keys = async () => {
    const out: string[] = [];
    // The album's catalog lines (derived, like album.json) are read by their own test.
    for await (const o of objects.list('')) if (!o.key.startsWith('catalog/')) out.push(o.key);
    return out;
  };
  return { source, objects, state, sharedState, downloader, run, keys };
}

async function text(objects: InMemoryObjectStore, key: string): Promise<string> {
  const got = await objects.getStream(key);
  return Buffer.concat(await got!.body.toArray()).toString('utf8');
}

describe('archiveSharedAlbum', () => {
  it('stores each new item once, labelled as a reduced copy with album, owner and contributor', async () => {
    const s = setup();
    const a = album('A', 'Family');
    s.source.put(a, [item('i1', 'x1'), item('i2', 'x2'), item('i3', 'x3')]);
    const result = await s.run(a);
    expect(result).toMatchObject({ stored: 3, referenced: 0, failures: [] });
    expect(await s.keys()).toEqual([
      'shared-albums/Family/2026-05-03/i1.JPG',
      'shared-albums/Family/2026-05-03/i2.JPG',
      'shared-albums/Family/2026-05-03/i3.JPG',
      'shared-albums/Family/album.json',
    ]);
    const head = await s.objects.head('shared-albums/Family/2026-05-03/i1.JPG');
    expect(head?.metadata).toMatchObject({
      'icloud-rendition': 'shared-album-copy',
      'icloud-shared-album': 'Family',
      'icloud-shared-owner': '100',
      'icloud-shared-contributor': 'Zo%C3%AB <script> (200)',
    });
    expect((await s.sharedState.loadAlbums())?.albums['A']).toMatchObject({
      archivedCtag: '1',
      itemCount: 3,
      reducedCount: 3,
    });
  });

  it("reads an album's item records once a pass: its view, catalog lines and counts come from what it read and wrote (issue 12)", async () => {
    let reads = 0;
    class CountingState extends InMemorySharedAlbumStateStore {
      override async loadItems(albumguid: string) {
        reads += 1;
        return super.loadItems(albumguid);
      }
    }
    const s = setup(DEFAULT_DELETE_POLICY, new CountingState());
    const a = album('A', 'Family');
    s.source.put(a, [item('i1', 'x1'), item('i2', 'x2'), item('i3', 'x3')]);
    await s.run(a);
    expect(reads).toBe(1);
    // A second pass: one gone, one new, one with a new comment count.
    s.source.put(a, [
      item('i2', 'x2', { likeCount: 2, changeTag: 'b1' }),
      item('i3', 'x3'),
      item('i4', 'x4'),
    ]);
    reads = 0;
    expect(await s.run(a)).toMatchObject({ stored: 1, updated: 1, removed: 1 });
    expect(reads).toBe(1);

    const stored = await s.sharedState.loadItems('A');
    expect((await s.sharedState.loadAlbums())?.albums['A']).toMatchObject({
      itemCount: 3,
      objectCount: 4,
    });
    const view = JSON.parse(await text(s.objects, 'shared-albums/Family/album.json')) as {
      items: { assetGuid: string; likes: number; removedAt?: string }[];
    };
    expect(view.items.map((i) => i.assetGuid).sort()).toEqual(stored.map((i) => i.assetGuid).sort());
    expect(view.items.find((i) => i.assetGuid === 'i1')?.removedAt).toBeDefined();
    expect(view.items.find((i) => i.assetGuid === 'i2')?.likes).toBe(2);
  });

  it('keeps an album in the folder it was first archived in when it is renamed', async () => {
    const s = setup();
    s.source.put(album('A', 'Before'), [item('i1', 'x1')]);
    await s.run(album('A', 'Before'));
    s.source.put(album('A', 'After'), [item('i1', 'x1'), item('i2', 'x2')]);
    await s.run(album('A', 'After'));
    expect((await s.keys()).every((k) => k.startsWith('shared-albums/Before/'))).toBe(true);
  });

  it('downloads nothing on a second pass over an unchanged album', async () => {
    const s = setup();
    const a = album('A');
    s.source.put(a, [item('i1', 'x1')]);
    await s.run(a);
    const opened = s.downloader.opened;
    expect(await s.run(a)).toMatchObject({ stored: 0, referenced: 0, updated: 0 });
    expect(s.downloader.opened).toBe(opened);
  });

  it('counts an item once its record is written: a pass whose record write failed counts nothing, its retry stores nothing again and counts it', async () => {
    const s = setup(DEFAULT_DELETE_POLICY, new ItemRecordsThrottledOnceStore());
    const a = album('A');
    s.source.put(a, [item('i1', 'x1')]);
    let counted: unknown;
    await expect(
      archiveSharedAlbum(
        {
          source: s.source,
          sharedState: s.sharedState,
          state: s.state,
          objects: s.objects,
          downloader: s.downloader,
          deletePolicy: DEFAULT_DELETE_POLICY,
          comments: true,
          now: () => 5,
          onRetry: (done) => {
            counted = done;
          },
        },
        a,
        false,
      ),
    ).rejects.toThrow('throughput');
    expect(counted).toMatchObject({ stored: 0, bytes: 0 });

    expect(await s.run(a)).toMatchObject({ stored: 1, bytes: 32, failures: [] });
    expect(s.downloader.opened).toBe(1);
    expect(await s.sharedState.loadItems('A')).toMatchObject([{ assetGuid: 'i1', ownsObject: true }]);
  });

  it('stores the same file posted to two albums once, the second album referencing it', async () => {
    const s = setup();
    const a = album('A', 'One');
    const b = album('B', 'Two');
    s.source.put(a, [item('i1', 'same')]);
    s.source.put(b, [item('j1', 'same')]);
    await s.run(a);
    expect(await s.run(b)).toMatchObject({ stored: 0, referenced: 1 });
    expect(s.downloader.opened).toBe(1);
    const [j1] = await s.sharedState.loadItems('B');
    expect(j1).toMatchObject({ key: 'shared-albums/One/2026-05-03/i1.JPG', ownsObject: false });
  });

  it('stores two different items of one 208-byte name on one day, the second under its suffixed name', async () => {
    const s = setup();
    const a = album('A', 'Family');
    const name = `${'n'.repeat(204)}.JPG`;
    s.source.put(a, [item('i1', 'x1', { fileName: name }), item('i2', 'x2', { fileName: name })]);
    const result = await s.run(a);
    expect(result).toMatchObject({ stored: 2, failures: [] });
    const files = (await s.keys()).filter((k) => k.includes('/2026-05-03/'));
    expect(files).toHaveLength(2);
  });

  it('archives a second Shared Album of the same 208-byte name in a folder of its own', async () => {
    const s = setup();
    const name = 'f'.repeat(208);
    s.source.put(album('A', name), [item('i1', 'x1')]);
    s.source.put(album('B', name), [item('j1', 'x2')]);
    await s.run(album('A', name));
    expect(await s.run(album('B', name))).toMatchObject({ stored: 1, failures: [] });
    const folders = new Set((await s.keys()).map((k) => k.split('/')[1]));
    expect(folders.size).toBe(2);
  });

  it('reads the page once more when a download URL has expired', async () => {
    const s = setup();
    const a = album('A');
    const stale = item('i1', 'x1');
    s.source.put(a, [stale]);
    s.downloader.expired.add(stale.rendition.downloadUrl);
    // The second read of the page hands out a fresh URL.
    const original = s.source.itemsPage.bind(s.source);
    let reads = 0;
    s.source.itemsPage = async (...args) => {
      reads++;
      const page = await original(...args);
      return reads === 1
        ? page
        : {
            ...page,
            items: page.items.map((i) => ({
              ...i,
              rendition: { ...i.rendition, downloadUrl: 'https://cdn.test/x1?size=32&fresh=1' },
            })),
          };
    };
    expect(await s.run(a)).toMatchObject({ stored: 1, failures: [] });
    expect(reads).toBe(2);
  });

  it('keeps the object of a removed item by default and records when it left', async () => {
    const s = setup();
    const a = album('A');
    s.source.put(a, [item('i1', 'x1'), item('i2', 'x2')]);
    await s.run(a);
    s.source.put(a, [item('i2', 'x2')]);
    expect(await s.run(a)).toMatchObject({ removed: 1, objectsDeleted: 0 });
    const removed = (await s.sharedState.loadItems('A')).find((i) => i.assetGuid === 'i1');
    expect(removed?.removedAt).toBe(5);
    expect(await s.objects.head(removed!.key)).toBeDefined();
  });

  it('under keep, an album gone says so in its view and catalog lines, asks Apple nothing and keeps every file and item', async () => {
    const s = setup();
    const a = album('A', 'Family');
    s.source.put(a, [item('i1', 'x1'), item('i2', 'x2')]);
    await s.run(a);
    const before = await s.keys();
    // The detector marked it gone (the album list's goneAt) and handed it over.
    const list = (await s.sharedState.loadAlbums())!;
    const { revision, ...rest } = list;
    await s.sharedState.saveAlbums(
      { ...rest, albums: { ...rest.albums, A: { ...rest.albums['A']!, goneAt: 4 } } },
      revision,
    );
    s.source.albums.delete('A');
    const asked = { ...s.source.requests };
    const result = await s.run(a, true);
    expect(result).toMatchObject({ removed: 0, objectsDeleted: 0, failures: [] });
    expect(s.source.requests).toEqual(asked);
    expect(await s.keys()).toEqual(before);
    const view = JSON.parse(await text(s.objects, 'shared-albums/Family/album.json'));
    expect(view.goneAt).toBe(new Date(4).toISOString());
    expect(view.items.map((i: { removedAt?: string }) => i.removedAt)).toEqual([undefined, undefined]);
    const lines = (await text(s.objects, 'catalog/shared-albums/A.jsonl'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.status, l.sharedAlbum.goneAt])).toEqual([
      ['archived', new Date(4).toISOString()],
      ['archived', new Date(4).toISOString()],
    ]);
    expect((await s.sharedState.loadItems('A')).every((i) => i.removedAt === undefined)).toBe(true);
    expect((await s.sharedState.loadAlbums())!.albums['A']).toMatchObject({ goneAt: 4, itemCount: 2 });
  });

  it('reads on past a short page while archived items are unseen, and removes nothing then', async () => {
    const s = setup({ ...DEFAULT_DELETE_POLICY, mode: 'mirror', maxDeleteFraction: 1 });
    const a = album('A');
    s.source.put(a, [item('i1', 'x1'), item('i2', 'x2'), item('i3', 'x3')]);
    await s.run(a);
    // Apple answers the first range short; the rest follows on the next range.
    const original = s.source.itemsPage.bind(s.source);
    s.source.itemsPage = async (al, offset, end) => original(al, offset, offset === 0 ? 1 : end);
    expect(await s.run({ ...a, ctag: '2' })).toMatchObject({ removed: 0, objectsDeleted: 0 });
  });

  it('removes nothing on a pass where a page held unreadable records', async () => {
    const s = setup({ ...DEFAULT_DELETE_POLICY, mode: 'mirror', maxDeleteFraction: 1 });
    const a = album('A');
    s.source.put(a, [item('i1', 'x1'), item('i2', 'x2')]);
    await s.run(a);
    const original = s.source.itemsPage.bind(s.source);
    s.source.itemsPage = async (...args) => {
      const page = await original(...args);
      return {
        items: page.items.filter((i) => i.assetGuid !== 'i1'),
        problems: page.items.some((i) => i.assetGuid === 'i1')
          ? [new UnexpectedResponseError('shared item i1 came without its master')]
          : [],
      };
    };
    expect(await s.run({ ...a, ctag: '2' })).toMatchObject({ removed: 0, objectsDeleted: 0 });
    expect(await s.objects.head('shared-albums/Album A/2026-05-03/i1.JPG')).toBeDefined();
  });

  it('under mirror deletes a removed item object only once no album uses it', async () => {
    const s = setup({ ...DEFAULT_DELETE_POLICY, mode: 'mirror', maxDeleteFraction: 1 });
    const a = album('A', 'One');
    const b = album('B', 'Two');
    s.source.put(a, [item('i1', 'same'), item('i2', 'x2')]);
    s.source.put(b, [item('j1', 'same')]);
    await s.run(a);
    await s.run(b);
    s.source.put(a, [item('i2', 'x2')]);
    expect(await s.run(a)).toMatchObject({ removed: 1, objectsDeleted: 0 });
    expect(await s.objects.head('shared-albums/One/2026-05-03/i1.JPG')).toBeDefined();
    s.source.put(b, []);
    expect(await s.run(b)).toMatchObject({ removed: 1, objectsDeleted: 1 });
    expect(await s.objects.head('shared-albums/One/2026-05-03/i1.JPG')).toBeUndefined();
  });

  it('the safety stop weighs the objects the albums hold, not the items that reference one', async () => {
    // Two objects, four items: half the archive is one object, not two.
    const s = setup({ ...DEFAULT_DELETE_POLICY, mode: 'mirror', maxDeleteFraction: 0.5 });
    const a = album('A', 'One');
    const b = album('B', 'Two');
    s.source.put(a, [item('i1', 'x1'), item('i2', 'x2')]);
    s.source.put(b, [item('j1', 'x1'), item('j2', 'x2')]);
    await s.run(a);
    await s.run(b);
    expect((await s.sharedState.loadAlbums())!.albums['B']).toMatchObject({ itemCount: 2, objectCount: 0 });
    expect((await s.sharedState.loadAlbums())!.albums['A']).toMatchObject({ itemCount: 2, objectCount: 2 });
    s.source.put(a, []);
    expect(await s.run(a)).toMatchObject({ removed: 2, objectsDeleted: 0, deletionsRefused: 2 });
  });

  it('under mirror keeps everything when the removals exceed the safety stop', async () => {
    const s = setup({ ...DEFAULT_DELETE_POLICY, mode: 'mirror' });
    const a = album('A');
    s.source.put(a, [item('i1', 'x1'), item('i2', 'x2'), item('i3', 'x3')]);
    await s.run(a);
    s.source.put(a, []);
    expect(await s.run(a)).toMatchObject({ removed: 3, objectsDeleted: 0, deletionsRefused: 3 });
    expect((await s.keys()).filter((k) => k.endsWith('.JPG'))).toHaveLength(3);
  });
});
