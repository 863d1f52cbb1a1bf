/**
 * The album views are written several albums at once (a first sync's tail waited on them one
 * album at a time: two PUTs and a state write each), never more than `ALBUM_VIEWS_AT_ONCE`, and a
 * failure part-way leaves every album either written and marked so, or still stale: the next pass
 * writes the rest.
 */
import { describe, expect, it } from 'vitest';
import { ALBUM_VIEWS_AT_ONCE, refreshAlbumViews } from '#app/album-views.ts';
import type { StoredAlbumInput } from '#domain/model/album.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import type { PutBytesOptions, PutResult } from '#ports/object-store.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const zone = { database: 'private', zoneName: 'PrimarySync' } as const;
const ALBUMS = 12;

function entry(name: string): ManifestEntryInput {
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

async function setUp() {
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

describe('writing the album views', () => {
  it('writes several albums at once, never more than the bound', async () => {
    const { objects, deps, stale, keys } = await setUp();
    expect(await refreshAlbumViews(deps)).toMatchObject({ written: ALBUMS });
    expect(objects.mostAlbumsAtOnce).toBeGreaterThan(1);
    expect(objects.mostAlbumsAtOnce).toBeLessThanOrEqual(ALBUM_VIEWS_AT_ONCE);
    expect(await keys()).toHaveLength(2 * ALBUMS);
    expect(await stale()).toEqual([]);
  });

  it('writes one album at a time when asked to (the local run, whose catalog fold is its tail)', async () => {
    const { objects, deps, stale } = await setUp();
    expect(await refreshAlbumViews({ ...deps, albumsAtOnce: 1 })).toMatchObject({ written: ALBUMS });
    expect(objects.mostAlbumsAtOnce).toBe(1);
    expect(await stale()).toEqual([]);
  });

  it('leaves an album it could not write stale, and the next pass writes it', async () => {
    const { objects, deps, state, stale, keys } = await setUp();
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
});
