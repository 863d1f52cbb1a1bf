/**
 * A Shared Album item that references a library original (library-copy.ts) races the library's
 * `mirror` purge of that photo (docs/reliability.md, finding 41). The purge reads the master's users
 * once, before it writes anything (apply-change.ts keysStillUsed), and deletes after. The item
 * records itself among the master's users first and then looks for the original again: a purge
 * that read the users before that write has purged the entry by then, and the item stores its own
 * copy; a purge that reads them after it keeps the original the item references.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { applyPurge } from '#domain/archive/apply-change.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import { isSharedAlbumUser } from '#domain/shared-albums/library-copy.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import type { ObjectHead } from '#ports/object-store.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';

const CHECKSUM = Buffer.from('library-original-0001').toString('base64');
const LIBRARY_KEY = 'library/2026/2026-07-01/IMG_0001.JPG';
const ZONE = { database: 'private', zoneName: 'PrimarySync' } as const;
const LIBRARY_ASSET = 'ASSET-1';
const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 1, maxDeleteCount: 1000 };

const album: SharedAlbum = {
  albumguid: 'SharedCollection-7B1E0000-0000-4000-8000-000000000001',
  name: 'Ski',
  location: '',
  ctag: '1',
  ownerDsid: '_owner',
  sharingType: 'owned',
  isPublic: false,
  collection: {
    database: 'private',
    zoneName: 'SharedCollection-7B1E0000-0000-4000-8000-000000000001',
    ownerRecordName: '_owner',
  },
};

const copyItem: SharedItem = {
  assetGuid: 'copy',
  masterRecordName: CHECKSUM,
  changeTag: 'a1',
  fileName: 'copy.JPG',
  captureDate: Date.UTC(2026, 6, 1, 12),
  rendition: {
    field: 'resOriginalRes',
    downloadUrl: 'https://cdn.test/copy?size=32',
    fileChecksum: CHECKSUM,
    size: 32,
    uti: 'public.jpeg',
  },
  fingerprint: CHECKSUM,
  likeCount: 0,
};

/** Runs `during` right after the `at`-th HEAD of the library original answered. */
class HeadThenElsewhere extends InMemoryObjectStore {
  during: (() => Promise<unknown>) | undefined;
  at = 1;
  override async head(key: string): Promise<ObjectHead | undefined> {
    const head = await super.head(key);
    if (key !== LIBRARY_KEY || --this.at > 0) return head;
    const during = this.during;
    this.during = undefined;
    if (during !== undefined) await during();
    return head;
  }
}

/** The library photo archived (its original's object, entry, master user and count) and the album showing it. */
async function libraryPhotoInAlbum(
  state: InMemorySyncStateStore,
  objects: InMemoryObjectStore,
  source: ListedSharedAlbumSource,
): Promise<void> {
  const body = Buffer.alloc(32, 'x');
  await state.addMasterUser(CHECKSUM, { zone: ZONE, assetRecordName: LIBRARY_ASSET });
  await objects.putStream(LIBRARY_KEY, Readable.from([body]), {
    contentType: 'image/jpeg',
    contentLength: 32,
    metadata: { 'icloud-checksum': CHECKSUM },
  });
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
        sha256: createHash('sha256').update(body).digest('hex'),
        md5: createHash('md5').update(body).digest('hex'),
        fileChecksum: CHECKSUM,
        archivedAt: 1,
      },
    ],
    deletions: [],
  };
  await state.putEntry(entry, 0);
  await state.countObject(LIBRARY_KEY, 32);
  source.put(album, [copyItem]);
}

/** The library's `mirror` purge of the photo (its tombstone). */
const purgeLibraryPhoto = (state: InMemorySyncStateStore, objects: InMemoryObjectStore) =>
  applyPurge(
    {
      state,
      objects,
      downloader: new ByteServingDownloader(),
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'mirror',
      now: () => 6,
    },
    ZONE,
    LIBRARY_ASSET,
    'CPLAsset',
    6,
  );

/** One pass of the workers over the album, under `mirror`. */
const passOverAlbum = (
  source: ListedSharedAlbumSource,
  sharedState: InMemorySharedAlbumStateStore,
  state: InMemorySyncStateStore,
  objects: InMemoryObjectStore,
) =>
  archiveSharedAlbum(
    {
      source,
      sharedState,
      state,
      objects,
      downloader: new ByteServingDownloader(),
      deletePolicy: MIRROR,
      comments: true,
      now: () => 5,
    },
    album,
    false,
  );

describe('a Shared Album item referencing a library original, and the library purge of that photo', () => {
  it.each([
    {
      when: 'the purge read the users before the item became one: the item stores its own copy',
      at: 1,
      outcome: { stored: 1, referenced: 0, failures: 0 },
      references: false,
    },
    {
      when: 'the purge reads the users after: the original stays, the item references it',
      at: 2,
      outcome: { stored: 0, referenced: 1, failures: 0 },
      references: true,
    },
  ])('records a file that is in the bucket when $when', async ({ at, outcome, references }) => {
    const source = new ListedSharedAlbumSource();
    const objects = new HeadThenElsewhere();
    objects.at = at;
    const state = new InMemorySyncStateStore();
    const sharedState = new InMemorySharedAlbumStateStore();
    await libraryPhotoInAlbum(state, objects, source);
    // The person purged the photo from the library; it stays in the Shared Album.
    objects.during = () => purgeLibraryPhoto(state, objects);

    const result = await passOverAlbum(source, sharedState, state, objects);

    const recorded = (await sharedState.loadItems(album.albumguid)).find((i) => i.assetGuid === 'copy');
    expect({
      outcome: { stored: result.stored, referenced: result.referenced, failures: result.failures.length },
      referencesLibrary: recorded?.key === LIBRARY_KEY && recorded.library !== undefined,
      inBucket: recorded !== undefined && objects.keys().includes(recorded.key),
      libraryPurged: (await state.getEntry({ zone: ZONE, assetRecordName: LIBRARY_ASSET }))?.status,
      // An item with its own copy leaves no user behind that would keep the original from a purge.
      albumUsers: (await state.masterUsers(CHECKSUM)).filter(isSharedAlbumUser).length,
    }).toEqual({
      outcome,
      referencesLibrary: references,
      inBucket: true,
      libraryPurged: 'purged',
      albumUsers: references ? 1 : 0,
    });
  });

  it('keeps the original when the purge read the users before the item became one but marks the entry after the item looked again', async () => {
    // The purge's first read of the master's users happens before the item records itself; the
    // whole album pass (user recorded, original found again, entry still archived) runs before
    // the purge writes anything. The purge must read the users once more after marking its entry.
    class PausingAtFirstUsersRead extends InMemorySyncStateStore {
      during: (() => Promise<unknown>) | undefined;
      override async masterUsers(masterRecordName: string) {
        const users = await super.masterUsers(masterRecordName);
        const during = this.during;
        this.during = undefined;
        if (during !== undefined) await during();
        return users;
      }
    }
    const source = new ListedSharedAlbumSource();
    const objects = new InMemoryObjectStore();
    const state = new PausingAtFirstUsersRead();
    const sharedState = new InMemorySharedAlbumStateStore();
    await libraryPhotoInAlbum(state, objects, source);
    let pass: Awaited<ReturnType<typeof archiveSharedAlbum>> | undefined;
    state.during = async () => {
      pass = await passOverAlbum(source, sharedState, state, objects);
    };

    const purged = await purgeLibraryPhoto(state, objects);

    const recorded = (await sharedState.loadItems(album.albumguid)).find((i) => i.assetGuid === 'copy');
    const entry = await state.getEntry({ zone: ZONE, assetRecordName: LIBRARY_ASSET });
    expect({
      purged,
      referenced: pass?.referenced,
      referencesLibrary: recorded?.key === LIBRARY_KEY,
      inBucket: objects.keys().includes(LIBRARY_KEY),
      counted: (await state.getCounters()).objects,
      // The purged entry does not claim a deletion that did not happen.
      deletions: entry?.deletions.map((d) => d.key),
    }).toEqual({
      purged: 'purged',
      referenced: 1,
      referencesLibrary: true,
      inBucket: true,
      counted: 1,
      deletions: [],
    });
  });
});
