/**
 * `verify --repair` repairs Shared Album objects (docs/reliability.md finding 35): a missing,
 * cut-short or corrupt object is deleted (its bytes stay a noncurrent version where the bucket
 * keeps them), its owner item marked as holding no object, and its album handed to the workers
 * again, whose pass stores the file afresh under the same key, owned and counted once. The
 * replacements count against the same deletion limit as the library's.
 */
import { describe, expect, it } from 'vitest';
import { runRepair } from '#app/repair.ts';
import { runVerify } from '#app/verify.ts';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { sampleSharedAlbum, sampleSharedItem } from '#test/fakes/shared-album-samples.ts';

const album = sampleSharedAlbum('A', 'Family');
const item = (guid: string) => sampleSharedItem(guid);

const noIcloud = (): Promise<IcloudConnection> => Promise.reject(new Error('no iCloud in this test'));

/** A Shared Album of three items archived, as a worker leaves it. */
async function archived() {
  const state = new InMemorySyncStateStore();
  const sharedState = new InMemorySharedAlbumStateStore();
  const objects = new InMemoryObjectStore();
  const source = new ListedSharedAlbumSource();
  source.put(album, [item('i1'), item('i2'), item('i3')]);
  const pass = (albumToArchive: SharedAlbum) =>
    archiveSharedAlbum(
      {
        source,
        sharedState,
        state,
        objects,
        downloader: new ByteServingDownloader(),
        deletePolicy: DEFAULT_DELETE_POLICY,
        comments: false,
        now: () => 5,
      },
      albumToArchive,
      false,
    );
  await pass(album);
  const queue = new InMemoryWorkQueue();
  const verify = () =>
    runVerify(
      { state, objects, sharedAlbumState: sharedState, versionPolicy: DEFAULT_VERSION_POLICY },
      { deep: false, etagsAreMd5: true },
    );
  const repair = async (deletePolicy: DeletePolicy = DEFAULT_DELETE_POLICY) => {
    const found = await verify();
    return runRepair(
      {
        state,
        objects,
        queue,
        icloud: noIcloud,
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy,
        sharedAlbumState: sharedState,
        now: () => 9,
      },
      found.report,
      found.sharedAlbums,
    );
  };
  /** The workers: every shared album handed out, archived. */
  const work = async () => {
    for (const queued of queue.receive(100))
      for (const w of queued.message.items) if (w.type === 'sharedAlbum') await pass(w.album);
  };
  return { state, sharedState, objects, verify, repair, work, queue };
}

const key = async (s: Awaited<ReturnType<typeof archived>>, guid: string) =>
  (await s.sharedState.loadItems('A')).find((i) => i.assetGuid === guid)!.key;

async function replaceBytes(objects: InMemoryObjectStore, at: string): Promise<void> {
  const head = await objects.head(at);
  await objects.putBytes(at, Buffer.alloc(head?.size ?? 0, 'x'), {
    contentType: 'image/jpeg',
    metadata: head?.metadata ?? {},
  });
}

describe('verify --repair of Shared Album objects', () => {
  it('replaces a corrupt shared object: the next pass stores it again, counted once', async () => {
    const s = await archived();
    const corrupt = await key(s, 'i1');
    const good = (await s.objects.head(corrupt))!.etag;
    await replaceBytes(s.objects, corrupt);
    const countsBefore = (await s.sharedState.loadAlbums())!.albums.A!;

    const outcome = await s.repair();
    await s.work();

    expect(outcome.sharedReplaced).toEqual([{ key: corrupt, reason: 'corrupt', albumguid: 'A' }]);
    expect(outcome.unrepairable).toEqual([]);
    const after = await s.verify();
    expect(after.sharedAlbums).toMatchObject({ ok: true, checksumMismatches: [], missing: [] });
    expect((await s.objects.head(corrupt))!.etag).toBe(good);
    const entry = (await s.sharedState.loadAlbums())!.albums.A!;
    expect(entry.objectCount).toBe(countsBefore.objectCount);
    expect(entry.archivedCtag).toBe(album.ctag);
    const records = (await s.sharedState.loadItems('A')).filter((i) => i.key === corrupt);
    expect(records.filter((i) => i.ownsObject)).toHaveLength(1);
    expect(records[0]!.objectDeletedAt).toBeUndefined();
  });

  it('stores a missing shared object again', async () => {
    const s = await archived();
    const gone = await key(s, 'i2');
    await s.objects.delete(gone);

    const outcome = await s.repair();
    await s.work();

    expect(outcome.sharedReplaced).toEqual([{ key: gone, reason: 'missing', albumguid: 'A' }]);
    expect((await s.verify()).sharedAlbums).toMatchObject({ ok: true, missing: [] });
  });

  it('is idempotent and completes after a crash between the delete and the handing out', async () => {
    const s = await archived();
    const corrupt = await key(s, 'i3');
    await replaceBytes(s.objects, corrupt);
    // As a crash after the delete leaves it: the object gone, nothing else done.
    await s.objects.delete(corrupt);

    await s.repair();
    await s.repair();
    await s.work();

    expect((await s.verify()).sharedAlbums).toMatchObject({ ok: true });
    expect((await s.sharedState.loadAlbums())!.albums.A!.objectCount).toBe(3);
  });

  it('completes after a crash between the owner mark and the album entry', async () => {
    const s = await archived();
    const at = await key(s, 'i1');
    // As a crash after the mark leaves it: the object gone, its owner marked, the album still "done".
    await s.objects.delete(at);
    const record = (await s.sharedState.loadItems('A')).find((i) => i.key === at)!;
    await s.sharedState.putItem('A', { ...record, objectDeletedAt: 7 });
    expect((await s.verify()).sharedAlbums?.missing).toHaveLength(1);

    const outcome = await s.repair();
    await s.work();

    expect(outcome.sharedReplaced).toEqual([{ key: at, reason: 'missing', albumguid: 'A' }]);
    expect((await s.verify()).sharedAlbums).toMatchObject({ ok: true });
    expect((await s.sharedState.loadAlbums())!.albums.A!.objectCount).toBe(3);
  });

  it('refuses to replace more shared objects than one run may delete, as for the library', async () => {
    const s = await archived();
    for (const guid of ['i1', 'i2']) await replaceBytes(s.objects, await key(s, guid));

    const outcome = await s.repair({ ...DEFAULT_DELETE_POLICY, maxDeleteFraction: 0, maxDeleteCount: 1 });
    await s.work();

    expect(outcome.refused).toEqual({ objects: 2, limit: 1 });
    expect(outcome.sharedReplaced).toEqual([]);
    expect(outcome.unrepairable).toHaveLength(2);
    expect((await s.verify()).sharedAlbums?.checksumMismatches).toHaveLength(2);
  });
});
