/**
 * A new-generation Shared Album item whose checksum is an archived library original is stored
 * once: the album references the library's object, and neither side's `mirror` deletes it while
 * the other still shows it (the only copy is never lost); a legacy (reduced) copy is never matched.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readText } from '#app/catalog-upkeep.ts';
import { applyPurge } from '#domain/archive/apply-change.ts';
import { classifyError } from '#domain/errors.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { archiveSharedAlbum, type SharedAlbumResult } from '#domain/shared-albums/archive-shared-album.ts';
import { LibraryTwinPendingError } from '#domain/shared-albums/errors.ts';
import { TWIN_WAIT_DELIVERIES } from '#domain/shared-albums/library-copy.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import { sharedCatalogKey } from '#domain/shared-albums/shared-catalog.ts';
import { checkSharedAlbums } from '#domain/shared-albums/verify-shared-albums.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { MAX_RECEIVE_COUNT } from '../../infra/work-queue.ts';

const CHECKSUM = Buffer.from('library-original-0001').toString('base64');
const LIBRARY_KEY = 'library/2026/2026-07-01/IMG_0001.JPG';
const ZONE = { database: 'private', zoneName: 'PrimarySync' } as const;
const LIBRARY_ASSET = 'ASSET-1';
const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 1, maxDeleteCount: 1000 };

const collection = (ctag: string): SharedAlbum => ({
  albumguid: 'SharedCollection-7B1E0000-0000-4000-8000-000000000001',
  name: 'Ski',
  location: '',
  ctag,
  ownerDsid: '_owner',
  sharingType: 'owned',
  isPublic: false,
  collection: {
    database: 'private',
    zoneName: 'SharedCollection-7B1E0000-0000-4000-8000-000000000001',
    ownerRecordName: '_owner',
  },
});

const legacy = (ctag: string): SharedAlbum => ({
  ...collection(ctag),
  albumguid: 'LEGACY-1',
  location: 'https://p101-sharedstreams.icloud.com:443/LEGACY-1/sharedstreams/',
  collection: undefined,
});

const item = (guid: string, checksum: string, fingerprint?: string): SharedItem => ({
  assetGuid: guid,
  masterRecordName: fingerprint ?? `M-${guid}`,
  changeTag: 'a1',
  fileName: `${guid}.JPG`,
  captureDate: Date.UTC(2026, 6, 1, 12),
  rendition: {
    field: 'resOriginalRes',
    downloadUrl: `https://cdn.test/${guid}?size=32`,
    fileChecksum: checksum,
    size: 32,
    uti: 'public.jpeg',
  },
  ...(fingerprint === undefined ? {} : { fingerprint }),
  likeCount: 0,
});

/**
 * `libraryArchived: false`: the library worker has started on the photo (it is among its master's
 * users) but stored nothing yet; `archiveLibraryPhoto` finishes it.
 */
async function setup(deletePolicy: DeletePolicy, { libraryArchived = true } = {}) {
  const source = new ListedSharedAlbumSource();
  const objects = new InMemoryObjectStore();
  const state = new InMemorySyncStateStore();
  const sharedState = new InMemorySharedAlbumStateStore();
  const downloader = new ByteServingDownloader();
  // The library archived the photo: its original (master named by its checksum, as Apple's are).
  const body = Buffer.alloc(32, 'x');
  const archiveLibraryPhoto = async (versions: ManifestEntryInput['versions'] = entry.versions) => {
    await objects.putStream(LIBRARY_KEY, Readable.from([body]), {
      contentType: 'image/jpeg',
      contentLength: 32,
      metadata: { 'icloud-checksum': CHECKSUM },
    });
    await state.putEntry({ ...entry, versions }, 0);
    await state.countObject(LIBRARY_KEY, 32);
  };
  const entry: ManifestEntryInput = {
    zone: ZONE,
    assetRecordName: LIBRARY_ASSET,
    masterRecordName: CHECKSUM,
    assetChangeTag: 'a',
    status: 'archived',
    flags: { isFavorite: false, isHidden: false, isDeleted: false },
    albums: [],
    versions: [
      {
        kind: 'original',
        key: LIBRARY_KEY,
        size: 32,
        // The body's own hashes: verify compares them with the object an album keeps.
        sha256: createHash('sha256').update(body).digest('hex'),
        md5: createHash('md5').update(body).digest('hex'),
        fileChecksum: CHECKSUM,
        archivedAt: 1,
      },
    ],
    deletions: [],
  };
  await state.addMasterUser(CHECKSUM, { zone: ZONE, assetRecordName: LIBRARY_ASSET });
  if (libraryArchived) await archiveLibraryPhoto();
  const run = (a: SharedAlbum, delivery?: number, onRetry?: (done: SharedAlbumResult) => void) =>
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
        ...(delivery === undefined ? {} : { delivery }),
        ...(onRetry === undefined ? {} : { onRetry }),
      },
      a,
      false,
    );
  const purgeLibraryPhoto = () =>
    applyPurge(
      {
        state,
        objects,
        downloader,
        refresh: async () => ({ assets: [] }),
        versionPolicy: DEFAULT_VERSION_POLICY,
        deletePolicy: deletePolicy.mode,
        now: () => 6,
      },
      ZONE,
      LIBRARY_ASSET,
      'CPLAsset',
      6,
    );
  const keys = async () => {
    const out: string[] = [];
    for await (const o of objects.list(''))
      if (!o.key.endsWith('album.json') && !o.key.startsWith('catalog/')) out.push(o.key);
    return out.sort();
  };
  return {
    source,
    objects,
    state,
    sharedState,
    downloader,
    run,
    purgeLibraryPhoto,
    archiveLibraryPhoto,
    keys,
  };
}

describe('a Shared Album item that is also in your library', () => {
  it('references the library original instead of storing its bytes again; an item not in the library is stored', async () => {
    const s = await setup(MIRROR);
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM), item('own', 'T3duLW9ubHk=')]);
    const result = await s.run(collection('1'));
    expect(result).toMatchObject({ stored: 1, referenced: 1, failures: [] });
    expect(s.downloader.opened).toBe(1);
    const stored = await s.sharedState.loadItems(collection('1').albumguid);
    expect(stored.find((i) => i.assetGuid === 'copy')).toMatchObject({
      key: LIBRARY_KEY,
      ownsObject: false,
      library: { assetRecordName: LIBRARY_ASSET, masterRecordName: CHECKSUM, kind: 'original' },
    });
    expect(await s.keys()).toEqual([LIBRARY_KEY, 'shared-albums/Ski/2026-07-01/own.JPG']);
    // The item's catalog line points at the library's key and names the library photo.
    const text = await readText(s.objects, sharedCatalogKey(collection('1').albumguid));
    const line = (text ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.asset === 'copy');
    expect(line).toMatchObject({
      key: LIBRARY_KEY,
      references: 'library',
      library: { zone: ZONE, asset: LIBRARY_ASSET },
      rendition: 'original',
      reduced: false,
    });
  });

  it('verify finds the referenced library object, and names it as kept for the albums', async () => {
    const s = await setup(MIRROR);
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM)]);
    await s.run(collection('1'));
    await s.purgeLibraryPhoto();
    const listed: { key: string; size: number; etag: string }[] = [];
    for await (const o of s.objects.list('')) listed.push({ key: o.key, size: o.size, etag: o.etag });
    const guid = collection('1').albumguid;
    const check = checkSharedAlbums(
      await s.sharedState.loadAlbums(),
      new Map([[guid, await s.sharedState.loadItems(guid)]]),
      listed,
    );
    expect(check).toMatchObject({ ok: true, missing: [], extra: [], referencingItems: 1 });
    expect(check.libraryKeys).toEqual([LIBRARY_KEY]);
  });

  it('finds the library original by the item checksum alone (no fingerprint sent)', async () => {
    const s = await setup(MIRROR);
    s.source.put(collection('1'), [item('copy', CHECKSUM)]);
    expect(await s.run(collection('1'))).toMatchObject({ stored: 0, referenced: 1 });
  });

  it('never matches a legacy reduced copy, even with an equal checksum', async () => {
    const s = await setup(MIRROR);
    s.source.put(legacy('1'), [item('copy', CHECKSUM, CHECKSUM)]);
    expect(await s.run(legacy('1'))).toMatchObject({ stored: 1, referenced: 0 });
  });

  it('mirror: the library photo purged keeps the object while the album shows it; the item removed then deletes it', async () => {
    const s = await setup(MIRROR);
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM)]);
    await s.run(collection('1'));
    expect(await s.purgeLibraryPhoto()).toBe('purged');
    expect(await s.keys()).toEqual([LIBRARY_KEY]);
    s.source.put(collection('2'), []);
    const result = await s.run(collection('2'));
    expect(result).toMatchObject({ removed: 1, objectsDeleted: 1 });
    expect(await s.keys()).toEqual([]);
    expect((await s.state.getCounters()).objects).toBe(0);
  });

  it('mirror: the item removed keeps the object a library worker under way (a user without an entry yet) is about to record', async () => {
    const s = await setup(MIRROR);
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM)]);
    await s.run(collection('1'));
    expect(await s.purgeLibraryPhoto()).toBe('purged');
    // Another asset of the master (a Duplicate, the Shared Library's copy) is being archived: its
    // worker recorded itself among the master's users and will adopt the object it finds.
    await s.state.addMasterUser(CHECKSUM, { zone: ZONE, assetRecordName: 'ASSET-1-DUPLICATE' });
    s.source.put(collection('2'), []);
    expect(await s.run(collection('2'))).toMatchObject({ removed: 1, objectsDeleted: 0 });
    expect(await s.keys()).toEqual([LIBRARY_KEY]);
  });

  it('mirror: the item removed from the album keeps the object the library still has', async () => {
    const s = await setup(MIRROR);
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM)]);
    await s.run(collection('1'));
    s.source.put(collection('2'), []);
    expect(await s.run(collection('2'))).toMatchObject({ removed: 1, objectsDeleted: 0 });
    expect(await s.keys()).toEqual([LIBRARY_KEY]);
    // And the library's own purge, with no album left showing it, deletes it.
    expect(await s.purgeLibraryPhoto()).toBe('purged');
    expect(await s.keys()).toEqual([]);
  });

  it('keep: nothing is deleted whichever side goes first', async () => {
    const s = await setup({ mode: 'keep', maxDeleteFraction: 0.05, maxDeleteCount: 1000 });
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM)]);
    await s.run(collection('1'));
    s.source.put(collection('2'), []);
    await s.run(collection('2'));
    await s.purgeLibraryPhoto();
    expect(await s.keys()).toEqual([LIBRARY_KEY]);
  });
});

describe('a Shared Album item whose library twin is being archived (one first sync doing both)', () => {
  it('waits for the library original on its first delivery and references it on the next: one object', async () => {
    const s = await setup(MIRROR, { libraryArchived: false });
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM), item('own', 'T3duLW9ubHk=')]);
    let partial: SharedAlbumResult | undefined;
    await expect(
      s.run(collection('1'), 1, (done) => {
        partial = done;
      }),
    ).rejects.toThrow(LibraryTwinPendingError);
    // The other item is stored meanwhile (and counted: the redelivery skips it); the copy is not,
    // and its comments were not asked yet.
    expect(partial).toMatchObject({ stored: 1, referenced: 0 });
    expect(await s.keys()).toEqual(['shared-albums/Ski/2026-07-01/own.JPG']);
    expect(s.source.requests.comments).toBe(1);
    await s.archiveLibraryPhoto();
    expect(await s.run(collection('1'), 2)).toMatchObject({ stored: 0, referenced: 1, failures: [] });
    expect(await s.keys()).toEqual([LIBRARY_KEY, 'shared-albums/Ski/2026-07-01/own.JPG']);
    const stored = await s.sharedState.loadItems(collection('1').albumguid);
    expect(stored.find((i) => i.assetGuid === 'copy')).toMatchObject({ key: LIBRARY_KEY, ownsObject: false });
    expect(classifyError(new LibraryTwinPendingError('x'))).toBe('retryable');
  });

  it('stores its own copy once the twin is still not archived after the waiting deliveries', async () => {
    const s = await setup(MIRROR, { libraryArchived: false });
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM)]);
    for (let delivery = 1; delivery <= TWIN_WAIT_DELIVERIES; delivery++)
      await expect(s.run(collection('1'), delivery)).rejects.toThrow(LibraryTwinPendingError);
    expect(await s.keys()).toEqual([]);
    // Well below the work queue's receives before the dead-letter queue.
    expect(TWIN_WAIT_DELIVERIES + 1).toBeLessThan(MAX_RECEIVE_COUNT);
    const result = await s.run(collection('1'), TWIN_WAIT_DELIVERIES + 1);
    expect(result).toMatchObject({ stored: 1, referenced: 0, failures: [] });
    expect(await s.keys()).toEqual(['shared-albums/Ski/2026-07-01/copy.JPG']);
  });

  it('does not wait for a library photo whose entry has no such original (the version policy skipped it)', async () => {
    const s = await setup(MIRROR, { libraryArchived: false });
    await s.archiveLibraryPhoto([]);
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM)]);
    expect(await s.run(collection('1'), 1)).toMatchObject({ stored: 1, referenced: 0 });
  });

  it('does not wait when the work is not redelivered (no delivery count), nor for an item no library worker named', async () => {
    const s = await setup(MIRROR, { libraryArchived: false });
    s.source.put(collection('1'), [item('copy', CHECKSUM, CHECKSUM)]);
    expect(await s.run(collection('1'))).toMatchObject({ stored: 1 });
    const t = await setup(MIRROR, { libraryArchived: false });
    t.source.put(collection('1'), [item('other', 'T3duLW9ubHk=')]);
    expect(await t.run(collection('1'), 1)).toMatchObject({ stored: 1 });
  });
});
