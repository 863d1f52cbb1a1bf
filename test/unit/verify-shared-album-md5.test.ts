/**
 * Verify's Shared Albums part checks each shared object's bytes as the library's part checks a
 * library object's: the MD5 its item recorded against the object's ETag where that is an MD5, else
 * its `md5chksum` (one HEAD, as reliability finding 13 added), and with `--deep` the SHA-256 of
 * its bytes read back. An item recorded before its hashes were kept is checked by size only, and
 * counted as such, not as a difference.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runVerify } from '#app/verify.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { sampleSharedAlbum, sampleSharedItem } from '#test/fakes/shared-album-samples.ts';
import { SseKmsObjectStore } from '#test/fakes/sse-kms-object-store.ts';

const album = sampleSharedAlbum('A', 'Family');
const item = (guid: string) => sampleSharedItem(guid);

const KEY = 'shared-albums/Family/2026-05-03/i1.JPG';

/** A Shared Album of two items archived into `objects`, as a worker leaves it. */
async function archived(objects: InMemoryObjectStore = new InMemoryObjectStore()) {
  const state = new InMemorySyncStateStore();
  const sharedState = new InMemorySharedAlbumStateStore();
  const source = new ListedSharedAlbumSource();
  source.put(album, [item('i1'), item('i2')]);
  await archiveSharedAlbum(
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
    album,
    false,
  );
  const verify = (options: { deep?: boolean; etagsAreMd5?: boolean } = {}) =>
    runVerify(
      { state, objects, sharedAlbumState: sharedState, versionPolicy: DEFAULT_VERSION_POLICY },
      { deep: options.deep ?? false, etagsAreMd5: options.etagsAreMd5 ?? true },
    );
  return { state, sharedState, objects, verify };
}

/** Other bytes of the same size at `key`, its metadata kept (bit rot, or a bad overwrite). */
async function replaceBytes(objects: InMemoryObjectStore, key: string): Promise<void> {
  const head = await objects.head(key);
  const size = head?.size ?? 0;
  await objects.putBytes(key, Buffer.alloc(size, 'x'), {
    contentType: 'image/jpeg',
    metadata: head?.metadata ?? {},
  });
}

/** Can turn an object's bytes into others of the same size behind S3's back: its ETag stays. */
class BitRotObjectStore extends InMemoryObjectStore {
  rot(key: string): void {
    const held = this.objects.get(key);
    if (held === undefined) throw new Error(`${key} is not stored`);
    this.objects.set(key, { ...held, data: Buffer.alloc(held.data.length, 'x') });
  }
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

describe("verify's check of Shared Album objects", () => {
  it('compares the MD5 of each shared object with its record, from its ETag', async () => {
    const s = await archived();

    const { sharedAlbums } = await s.verify();

    expect(sharedAlbums).toMatchObject({ ok: true, md5Compared: 2, sizeOnly: 0, checksumMismatches: [] });
  });

  it('reports a shared object whose bytes were replaced by others of the same size as corrupt', async () => {
    const s = await archived();
    await replaceBytes(s.objects, KEY);

    const outcome = await s.verify();

    expect(outcome.sharedAlbums?.ok).toBe(false);
    expect(outcome.sharedAlbums?.checksumMismatches).toEqual([
      {
        key: KEY,
        algorithm: 'md5',
        source: 'etag',
        expected: (await s.sharedState.loadItems('A')).find((i) => i.key === KEY)?.md5,
        actual: md5(Buffer.alloc(32, 'x')),
      },
    ]);
    expect(outcome.differences).toBe(1);
    expect(outcome.report.ok).toBe(false);
  });

  it('under SSE-KMS compares md5chksum (one HEAD each) and still finds the replaced bytes', async () => {
    const objects = new SseKmsObjectStore();
    const s = await archived(objects);
    const before = objects.heads;
    const intact = await s.verify();
    expect(intact.sharedAlbums).toMatchObject({ ok: true, md5Compared: 2, checksumMismatches: [] });
    expect(objects.heads - before).toBe(2);

    // Bytes written by something else: their md5chksum is not the item's.
    const head = await objects.head(KEY);
    await objects.putBytes(KEY, Buffer.alloc(32, 'x'), {
      contentType: 'image/jpeg',
      metadata: {
        ...head?.metadata,
        md5chksum: Buffer.from(md5(Buffer.alloc(32, 'x')), 'hex').toString('base64'),
      },
    });
    const outcome = await s.verify();

    expect(outcome.sharedAlbums?.checksumMismatches).toMatchObject([{ key: KEY, source: 'md5chksum' }]);
  });

  it('with --deep compares the SHA-256 of the bytes read back', async () => {
    const objects = new BitRotObjectStore();
    const s = await archived(objects);
    // The listing's ETag still says the item's MD5: only the bytes tell.
    objects.rot(KEY);

    const shallow = await s.verify();
    const deep = await s.verify({ deep: true });

    expect(shallow.sharedAlbums?.ok).toBe(true);
    expect(deep.sharedAlbums?.checksumMismatches).toMatchObject([
      { key: KEY, algorithm: 'sha256', source: 'content' },
    ]);
  });

  it('checks an item recorded before its hashes were kept by size only, and says so, without a difference', async () => {
    const s = await archived();
    const items = await s.sharedState.loadItems('A');
    await s.sharedState.putItems(
      'A',
      items.map(({ md5: _md5, sha256: _sha256, ...rest }) => rest),
    );
    await replaceBytes(s.objects, KEY);

    const { sharedAlbums, differences } = await s.verify();

    expect(sharedAlbums).toMatchObject({ ok: true, md5Compared: 0, sizeOnly: 2, checksumMismatches: [] });
    expect(differences).toBe(0);
  });
});
