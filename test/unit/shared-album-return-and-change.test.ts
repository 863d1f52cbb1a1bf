/**
 * A Shared Album item that comes back after it left (removed, then added again under the same
 * item id), and an item whose file changes under the same item id: each item's record names bytes
 * that are its own and in the bucket, and the albums count each object once (finding 23's rules).
 */
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum, SHARED_METADATA_KEYS } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import { checksumClaim } from '#domain/shared-albums/shared-keys.ts';
import { sharedObjectCount } from '#domain/shared-albums/state.ts';
import { checkSharedAlbums } from '#domain/shared-albums/verify-shared-albums.ts';
import type { PutResult, PutStreamOptions } from '#ports/object-store.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import {
  sampleSharedAlbum as album,
  sampleChecksum as checksumOf,
  sampleSharedItem,
} from '#test/fakes/shared-album-samples.ts';

const MIRROR: DeletePolicy = { ...DEFAULT_DELETE_POLICY, mode: 'mirror', maxDeleteFraction: 1 };

/** Item `guid` showing `file` (its bytes and Apple checksum), named `<guid>.JPG`. */
const item = (guid: string, file: string, changeTag = 'b0') => sampleSharedItem(guid, file, { changeTag });

/** Once armed, its next put fails as a reset connection does, storing nothing (a worker that died). */
class PutFailsOnceStore extends InMemoryObjectStore {
  armed = false;
  override async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<PutResult> {
    if (!this.armed || !key.startsWith('shared-albums/') || key.endsWith('/album.json'))
      return super.putStream(key, body, options);
    this.armed = false;
    body.destroy();
    throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  }
}

function setup(deletePolicy: DeletePolicy = DEFAULT_DELETE_POLICY) {
  const source = new ListedSharedAlbumSource();
  const objects = new PutFailsOnceStore();
  const state = new InMemorySyncStateStore();
  const sharedState = new InMemorySharedAlbumStateStore();
  const downloader = new ByteServingDownloader();
  let ctag = 1;
  /** A pass over the album as it is listed now (each with a new ctag, as Apple's changes bring). */
  const run = (a: SharedAlbum, items: SharedItem[]) => {
    const changed = { ...a, ctag: String(ctag++) };
    source.put(changed, items);
    return archiveSharedAlbum(
      { source, sharedState, state, objects, downloader, deletePolicy, comments: false, now: () => 5 },
      changed,
      false,
    );
  };
  /** What the albums count, and the files the bucket holds under `shared-albums/`. */
  const figures = async () => {
    const files: string[] = [];
    for await (const o of objects.list('shared-albums/'))
      if (!o.key.endsWith('/album.json')) files.push(o.key);
    return { counted: sharedObjectCount(await sharedState.loadAlbums()), inBucket: files.length };
  };
  /** The file each live item's record points at, as the bucket holds it now ('missing' when gone). */
  const holds = async (a: SharedAlbum) => {
    const out: Record<string, string> = {};
    for (const i of await sharedState.loadItems(a.albumguid)) {
      if (i.removedAt !== undefined) continue;
      const head = await objects.head(i.key);
      const checksum = head?.metadata[SHARED_METADATA_KEYS.fileChecksum];
      out[i.assetGuid] =
        head === undefined
          ? 'missing'
          : checksum === i.fileChecksum && head.metadata['icloud-sha256'] === i.sha256
            ? 'own'
            : 'other';
    }
    return out;
  };
  return {
    objects,
    state,
    sharedState,
    downloader,
    one: album('A', 'One'),
    two: album('B', 'Two'),
    run,
    figures,
    holds,
  };
}

describe('a Shared Album item that comes back after it left', () => {
  it('under mirror, is stored again once mirror deleted its file, idempotent and crash-safe', async () => {
    const s = setup(MIRROR);
    await s.run(s.one, [item('i1', 'x')]);
    await s.run(s.one, []);
    expect(await s.figures()).toEqual({ counted: 0, inBucket: 0 });

    // Added back (the same item); the first pass dies on its put, its retry stores it.
    s.objects.armed = true;
    await expect(s.run(s.one, [item('i1', 'x', 'b1')])).rejects.toThrow('socket hang up');
    const back = await s.run(s.one, [item('i1', 'x', 'b1')]);

    expect(back).toMatchObject({ stored: 1 });
    expect(await s.holds(s.one)).toEqual({ i1: 'own' });
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
    const opened = s.downloader.opened;
    expect(await s.run(s.one, [item('i1', 'x', 'b1')])).toMatchObject({ stored: 0, updated: 0 });
    expect(s.downloader.opened).toBe(opened);
  });

  it("under mirror, is a user of its file again once back: another item's removal keeps the file", async () => {
    const s = setup(MIRROR);
    await s.run(s.one, [item('i1', 'x')]);
    await s.run(s.two, [item('j1', 'x')]);
    await s.run(s.one, []);
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
    const opened = s.downloader.opened;

    const back = await s.run(s.one, [item('i1', 'x', 'b1')]);
    await s.run(s.two, []);

    expect(back).toMatchObject({ stored: 0, updated: 1 });
    expect(s.downloader.opened).toBe(opened);
    expect(await s.holds(s.one)).toEqual({ i1: 'own' });
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
  });

  it('is reported missing by verify when its record, as earlier versions left it, shows it back with its file deleted', async () => {
    const s = setup(MIRROR);
    await s.run(s.one, [item('i1', 'x')]);
    await s.run(s.one, []);
    // What the return wrote before this fix: the removal dropped, the deletion kept, nothing stored.
    const [left] = await s.sharedState.loadItems('A');
    const { removedAt: _removed, ...back } = left ?? expect.fail('no record');
    await s.sharedState.putItem('A', back);

    const check = checkSharedAlbums(await s.sharedState.loadAlbums(), new Map([['A', [back]]]), []);

    expect(check.ok).toBe(false);
    expect(check.missing).toEqual([{ key: back.key, assetGuid: 'i1', albumguid: 'A' }]);
    // The album's next pass stores it.
    await s.run(s.one, [item('i1', 'x')]);
    expect(await s.holds(s.one)).toEqual({ i1: 'own' });
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
  });
});

describe('a Shared Album item whose file changes under the same item id', () => {
  it("leaves the old file to another album's item that references it", async () => {
    const s = setup();
    await s.run(s.one, [item('i1', 'x')]);
    await s.run(s.two, [item('j1', 'x')]);

    await s.run(s.one, [item('i1', 'y', 'b1')]);

    expect(await s.holds(s.one)).toEqual({ i1: 'own' });
    expect(await s.holds(s.two)).toEqual({ j1: 'own' });
    expect(await s.figures()).toEqual({ counted: 2, inBucket: 2 });
  });

  it('releases the old checksum: the old file shared again is stored afresh, not over the changed one', async () => {
    const s = setup();
    await s.run(s.one, [item('i1', 'x')]);
    await s.run(s.one, [item('i1', 'y', 'b1')]);

    await s.run(s.two, [item('j1', 'x')]);

    expect(await s.holds(s.one)).toEqual({ i1: 'own' });
    expect(await s.holds(s.two)).toEqual({ j1: 'own' });
    expect(await s.figures()).toEqual({ counted: 2, inBucket: 2 });
  });

  it('stores the old file afresh when its checksum still names the changed key (left by an earlier version, or a race)', async () => {
    const s = setup();
    await s.run(s.one, [item('i1', 'x')]);
    await s.run(s.one, [item('i1', 'y', 'b1')]);
    // Before this fix a changed file left the old checksum's claim naming its key.
    await s.state.claimKey(checksumClaim(checksumOf('x')), 'shared-albums/One/2026-05-03/i1.JPG');

    await s.run(s.two, [item('j1', 'x')]);
    await s.run(s.two, [item('j2', 'x')]);

    expect(await s.holds(s.one)).toEqual({ i1: 'own' });
    expect(await s.holds(s.two)).toEqual({ j2: 'own' });
    expect(await s.figures()).toEqual({ counted: 2, inBucket: 2 });
  });

  it('under mirror, the old file stays while the other item uses it and goes with it', async () => {
    const s = setup(MIRROR);
    await s.run(s.one, [item('i1', 'x')]);
    await s.run(s.two, [item('j1', 'x')]);
    await s.run(s.one, [item('i1', 'y', 'b1')]);

    await s.run(s.two, []);

    expect(await s.holds(s.one)).toEqual({ i1: 'own' });
    expect(await s.figures()).toEqual({ counted: 1, inBucket: 1 });
  });
});
