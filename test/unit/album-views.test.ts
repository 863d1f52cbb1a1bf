import { describe, expect, it } from 'vitest';
import { ALBUM_VIEWS_AT_ONCE, refreshAlbumViews } from '#app/album-views.ts';
import type { StoredAlbumInput } from '#domain/model/album.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import type { PutBytesOptions, PutResult } from '#ports/object-store.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const zone = { database: 'private', zoneName: 'PrimarySync' } as const;
const ALBUMS = 12;

function entry(name: string, extra: Partial<ManifestEntryInput> = {}): ManifestEntryInput {
  return {
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
    ...extra,
  };
}

const album = (recordName: string, name: string): StoredAlbumInput => ({
  zone,
  recordName,
  name,
  kind: 'album',
  albumType: 0,
  deleted: false,
  viewStale: true,
});

async function setUp() {
  const state = new InMemorySyncStateStore();
  const objects = new InMemoryObjectStore();
  for (const name of ['P1', 'P2', 'P3']) await state.putEntry(entry(name), 0);
  await state.putEntry(entry('H1', { flags: { isFavorite: false, isHidden: true, isDeleted: false } }), 0);
  await state.saveAlbum(album('A1', 'Sommer'), 0);
  await state.saveAlbum(album('A2', 'Winter'), 0);
  await state.putAlbumMembers({ zone, recordName: 'A1' }, [
    { assetRecordName: 'P2', position: 1 },
    { assetRecordName: 'H1', position: 2 },
    { assetRecordName: 'P1', position: 3 },
  ]);
  await state.putAlbumMembers({ zone, recordName: 'A2' }, [{ assetRecordName: 'P3', position: 1 }]);
  const deps = { albums: state, state, objects };
  const keys = async () => {
    const out: string[] = [];
    for await (const o of objects.list('albums/')) out.push(o.key);
    return out.sort();
  };
  const read = async (key: string) => {
    const got = await objects.getStream(key);
    const chunks: Buffer[] = [];
    for await (const c of got!.body) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name: string; items: { key: string }[] };
  };
  return { state, objects, deps, keys, read };
}

describe('refreshing the album views', () => {
  it('writes one JSON view and one playlist per album, photos in album order, hidden ones left out', async () => {
    const { deps, keys, read } = await setUp();
    expect(await refreshAlbumViews(deps)).toMatchObject({ written: 2, removed: 0, waiting: 0 });
    expect(await keys()).toEqual([
      'albums/Sommer.json',
      'albums/Sommer.m3u8',
      'albums/Winter.json',
      'albums/Winter.m3u8',
    ]);
    expect((await read('albums/Sommer.json')).items.map((i) => i.key)).toEqual([
      'library/2024/2024-01-01/P2.HEIC',
      'library/2024/2024-01-01/P1.HEIC',
    ]);
  });

  it('writes nothing the second time', async () => {
    const { deps } = await setUp();
    await refreshAlbumViews(deps);
    expect(await refreshAlbumViews(deps)).toMatchObject({ written: 0, removed: 0 });
  });

  it('keeps both views when two albums swap names', async () => {
    const { state, deps, keys, read } = await setUp();
    await refreshAlbumViews(deps);
    for (const [recordName, name] of [
      ['A1', 'Winter'],
      ['A2', 'Sommer'],
    ] as const) {
      const stored = (await state.loadAlbum({ zone, recordName }))!;
      const { updatedAt: _u, revision, ...rest } = stored;
      await state.saveAlbum({ ...rest, name, viewStale: true }, revision);
    }
    await refreshAlbumViews(deps);
    expect(await keys()).toHaveLength(4);
    expect((await read('albums/Winter.json')).items).toHaveLength(2);
    expect((await read('albums/Sommer.json')).items).toHaveLength(1);
  });

  it('removes the view of a deleted album, both its objects in one request', async () => {
    const { state, objects, deps, keys } = await setUp();
    await refreshAlbumViews(deps);
    const stored = (await state.loadAlbum({ zone, recordName: 'A2' }))!;
    const { updatedAt: _u, revision, ...rest } = stored;
    await state.saveAlbum({ ...rest, deleted: true, viewStale: true }, revision);
    const deletes: string[][] = [];
    const counted = Object.assign(Object.create(objects) as InMemoryObjectStore, {
      delete: async (key: string) => {
        deletes.push([key]);
        await objects.delete(key);
      },
      deleteMany: async (many: readonly string[]) => {
        deletes.push([...many]);
        await objects.deleteMany(many);
      },
    });
    expect(await refreshAlbumViews({ ...deps, objects: counted })).toMatchObject({ removed: 1 });
    expect(deletes).toEqual([['albums/Winter.json', 'albums/Winter.m3u8']]);
    expect(await keys()).toEqual(['albums/Sommer.json', 'albums/Sommer.m3u8']);
    expect((await state.loadAlbum({ zone, recordName: 'A2' }))?.view).toBeUndefined();
  });

  it('keeps an album stale while a member has no archived object, and lists it once it has', async () => {
    const { state, deps, read } = await setUp();
    await state.putAlbumMembers({ zone, recordName: 'A2' }, [{ assetRecordName: 'P4', position: 2 }]);
    expect(await refreshAlbumViews(deps)).toMatchObject({ waiting: 1 });
    expect((await state.loadAlbum({ zone, recordName: 'A2' }))?.viewStale).toBe(true);
    await state.putEntry(entry('P4'), 0);
    await refreshAlbumViews(deps);
    expect((await read('albums/Winter.json')).items).toHaveLength(2);
    expect((await state.loadAlbum({ zone, recordName: 'A2' }))?.viewStale).toBe(false);
  });

  it('with workers beside it, keeps a changed album stale until its photos had time to settle', async () => {
    const { state, deps, read } = await setUp();
    let now = Date.now();
    const settling = { ...deps, settleMs: 60_000, now: () => now };
    await refreshAlbumViews(settling);
    // A photo of Winter is trashed; the worker records it only after the pass that follows the mark.
    const winter = (await state.loadAlbum({ zone, recordName: 'A2' }))!;
    const { updatedAt: _u, revision, ...rest } = winter;
    await state.saveAlbum({ ...rest, viewStale: true }, revision);
    expect(await refreshAlbumViews(settling)).toMatchObject({ written: 0 });
    expect((await state.loadAlbum({ zone, recordName: 'A2' }))?.viewStale).toBe(true);
    const p3 = (await state.getEntry({ zone, assetRecordName: 'P3' }))!;
    const { updatedAt: _e, revision: entryRevision, ...entryRest } = p3;
    await state.putEntry(
      { ...entryRest, status: 'trashed', flags: { ...entryRest.flags, isDeleted: true } },
      entryRevision,
    );
    expect(await refreshAlbumViews(settling)).toMatchObject({ written: 1 });
    expect((await read('albums/Winter.json')).items).toEqual([]);
    now += 120_000;
    expect(await refreshAlbumViews(settling)).toMatchObject({ written: 0 });
    expect((await state.loadAlbum({ zone, recordName: 'A2' }))?.viewStale).toBe(false);
  });
});

/** The in-memory store whose puts take a moment, counting how many albums are being written at once. */
class SlowObjectStore extends InMemoryObjectStore {
  /** Puts in flight by album view path (without its extension). */
  readonly #writing = new Map<string, number>();
  mostAlbumsAtOnce = 0;
  failOn: string | undefined;

  override async putBytes(key: string, body: Uint8Array, options: PutBytesOptions): Promise<PutResult> {
    const view = key.replace(/\.(json|m3u8)$/, '');
    this.#writing.set(view, (this.#writing.get(view) ?? 0) + 1);
    this.mostAlbumsAtOnce = Math.max(this.mostAlbumsAtOnce, this.#writing.size);
    try {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (key === this.failOn) throw new Error(`S3 refused ${key}`);
      return await super.putBytes(key, body, options);
    } finally {
      const left = (this.#writing.get(view) ?? 1) - 1;
      if (left === 0) this.#writing.delete(view);
      else this.#writing.set(view, left);
    }
  }
}

/** Twelve albums of one photo each, all stale, over a store whose puts take a moment. */
async function setUpAlbums() {
  const state = new InMemorySyncStateStore();
  const objects = new SlowObjectStore();
  for (let i = 0; i < ALBUMS; i++) {
    await state.putEntry(entry(`P${i}`), 0);
    await state.saveAlbum(album(`A${i}`, `Album ${String(i).padStart(2, '0')}`), 0);
    await state.putAlbumMembers({ zone, recordName: `A${i}` }, [{ assetRecordName: `P${i}`, position: 1 }]);
  }
  const stale = async () => {
    const out: string[] = [];
    for (const a of await state.loadAlbums()) if (a.viewStale) out.push(a.name);
    return out.sort();
  };
  const keys = async () => {
    const out: string[] = [];
    for await (const o of objects.list('albums/')) out.push(o.key);
    return out;
  };
  return { state, objects, deps: { albums: state, state, objects }, stale, keys };
}

// Several albums at once (a first sync's tail waited on them one album at a time: two PUTs and a
// state write each), never more than ALBUM_VIEWS_AT_ONCE; a failure part-way leaves every album
// either written and marked so, or still stale for the next pass.
describe('writing the album views', () => {
  it('writes several albums at once, never more than the bound', async () => {
    const { objects, deps, stale, keys } = await setUpAlbums();
    expect(await refreshAlbumViews(deps)).toMatchObject({ written: ALBUMS });
    expect(objects.mostAlbumsAtOnce).toBeGreaterThan(1);
    expect(objects.mostAlbumsAtOnce).toBeLessThanOrEqual(ALBUM_VIEWS_AT_ONCE);
    expect(await keys()).toHaveLength(2 * ALBUMS);
    expect(await stale()).toEqual([]);
  });

  it('writes one album at a time when asked to (the local run, whose catalog fold is its tail)', async () => {
    const { objects, deps, stale } = await setUpAlbums();
    expect(await refreshAlbumViews({ ...deps, albumsAtOnce: 1 })).toMatchObject({ written: ALBUMS });
    expect(objects.mostAlbumsAtOnce).toBe(1);
    expect(await stale()).toEqual([]);
  });

  it('leaves an album it could not write stale, and the next pass writes it', async () => {
    const { objects, deps, state, stale, keys } = await setUpAlbums();
    objects.failOn = 'albums/Album 05.m3u8';
    await expect(refreshAlbumViews(deps)).rejects.toThrow('S3 refused');
    // Whatever was marked written has both of its objects.
    const written = new Set(await keys());
    for (const a of await state.loadAlbums()) {
      if (a.viewStale) continue;
      expect(written).toContain(`albums/${a.name}.json`);
      expect(written).toContain(`albums/${a.name}.m3u8`);
    }
    expect(await stale()).toContain('Album 05');
    objects.failOn = undefined;
    await refreshAlbumViews(deps);
    expect(await stale()).toEqual([]);
    expect(await keys()).toHaveLength(2 * ALBUMS);
  });

  it('writes every other album when one cannot be written, then reports the one', async () => {
    const { objects, deps, stale } = await setUpAlbums();
    objects.failOn = 'albums/Album 01.m3u8';
    await expect(refreshAlbumViews({ ...deps, albumsAtOnce: 1 })).rejects.toThrow('S3 refused');
    expect(await stale()).toEqual(['Album 01']);
  });

  it('writes the view of an album six CJK folders deep under a key S3 takes', async () => {
    const state = new InMemorySyncStateStore();
    const objects = new InMemoryObjectStore();
    await state.putEntry(entry('P1'), 0);
    for (let i = 0; i < 6; i++) {
      await state.saveAlbum(
        {
          ...album(`F${i}`, `${'写真'.repeat(29)}${i}`),
          kind: 'folder',
          albumType: 3,
          ...(i === 0 ? {} : { parentRecordName: `F${i - 1}` }),
        },
        0,
      );
    }
    await state.saveAlbum({ ...album('A1', '旅行'.repeat(30)), parentRecordName: 'F5' }, 0);
    await state.putAlbumMembers({ zone, recordName: 'A1' }, [{ assetRecordName: 'P1', position: 1 }]);
    expect(await refreshAlbumViews({ albums: state, state, objects })).toMatchObject({ written: 1 });
    const keys: string[] = [];
    for await (const o of objects.list('albums/')) keys.push(o.key);
    expect(keys).toHaveLength(2);
  });
});
