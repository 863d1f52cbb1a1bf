/**
 * A Shared Album pass releases key claims under either delete policy (docs/reliability.md, finding
 * 37): the same photo in a second Shared Album references the first album's object and releases its
 * own unused key (archive-shared-album.ts storeFile, `releaseKey(key, me)`: a DeleteItem on
 * `key#…`); an item whose file changed hands its old object over to another item using it, or
 * releases the old checksum's claim (leaveOldFile, handOver). Under `keep` (the default) the
 * workers' role must allow those deletes too, or AWS refuses them (AccessDeniedException) and the
 * item is never recorded. Each is conditional on the claim's owner (releaseKey).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '#adapters/aws/state-items.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { archiveSharedAlbum } from '#domain/shared-albums/archive-shared-album.ts';
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';
import { ByteServingDownloader } from '#test/fakes/byte-serving-downloader.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ListedSharedAlbumSource } from '#test/fakes/listed-shared-album-source.ts';
import { iamLike } from '#test/helpers/iam/role-policy.ts';
import { actionsOf, type Statement, type Synthesised, statementsOfRole, synthesise } from './synth.ts';

const KEEP: DeletePolicy = { mode: 'keep', maxDeleteFraction: 0.05, maxDeleteCount: 1000 };
const CHECKSUM = Buffer.from('same-photo-in-two-albums').toString('base64');

const album = (n: number): SharedAlbum => ({
  albumguid: `SharedCollection-7B1E0000-0000-4000-8000-00000000000${n}`,
  name: `Album ${n}`,
  location: '',
  ctag: '1',
  ownerDsid: '_owner',
  sharingType: 'owned',
  isPublic: false,
  collection: {
    database: 'private',
    zoneName: `SharedCollection-7B1E0000-0000-4000-8000-00000000000${n}`,
    ownerRecordName: '_owner',
  },
});

const item = (guid: string, fileChecksum = CHECKSUM): SharedItem => ({
  assetGuid: guid,
  masterRecordName: `M-${guid}`,
  changeTag: 'a1',
  fileName: `${guid}.JPG`,
  captureDate: Date.UTC(2026, 6, 1, 12),
  rendition: {
    field: 'resOriginalRes',
    downloadUrl: `https://cdn.test/${guid}?size=32`,
    fileChecksum,
    size: 32,
    uti: 'public.jpeg',
  },
  likeCount: 0,
});

/** Records the partition key of every item a release deletes (DynamoDB DeleteItem). */
class RecordingReleases extends InMemorySyncStateStore {
  readonly deleted: string[] = [];
  override async releaseKey(key: string, owner: string): Promise<boolean> {
    this.deleted.push(keys.keyClaim(key).pk);
    return super.releaseKey(key, owner);
  }
}

let keep: Synthesised;
beforeAll(() => {
  keep = synthesise();
});

describe('Shared Album passes under keep and the workers role', () => {
  it('delete only state items the keep role lets the workers delete', async () => {
    const source = new ListedSharedAlbumSource();
    const state = new RecordingReleases();
    const deps = {
      source,
      sharedState: new InMemorySharedAlbumStateStore(),
      state,
      objects: new InMemoryObjectStore(),
      downloader: new ByteServingDownloader(),
      deletePolicy: KEEP,
      comments: true,
      now: () => 5,
    };
    source.put(album(1), [item('a')]);
    source.put(album(2), [item('b')]);
    await archiveSharedAlbum(deps, album(1), false);
    // The same photo: album 2's item references album 1's object and releases its own key.
    await archiveSharedAlbum(deps, album(2), false);
    // Album 1's file changes: its old object goes over to album 2's item (handOver).
    source.put(album(1), [item('a', Buffer.from('same-photo-edited').toString('base64'))]);
    await archiveSharedAlbum(deps, album(1), false);
    // Album 2's too: nobody uses the old file now, its checksum's claim goes (leaveOldFile).
    source.put(album(2), [item('b', Buffer.from('same-photo-cropped').toString('base64'))]);
    await archiveSharedAlbum(deps, album(2), false);

    const deletes = statementsOfRole(keep.template, keep.stack, keep.stack.workers.fn.role).filter(
      (s: Statement) => actionsOf([s]).includes('dynamodb:DeleteItem'),
    );
    const patterns = (deletes[0] as Statement & { Condition: Record<string, Record<string, string[]>> })
      .Condition['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[];
    const sharedItems = await Promise.all([1, 2].map((n) => deps.sharedState.loadItems(album(n).albumguid)));
    expect(sharedItems.flat().map((i) => [i.assetGuid, i.ownsObject])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    // Its own key (album 2), the old object's claim handed over, the old checksum's claim.
    expect(state.deleted.length).toBeGreaterThanOrEqual(3);
    expect(state.deleted.filter((pk) => !patterns.some((p) => iamLike(p, pk)))).toEqual([]);
  });
});
