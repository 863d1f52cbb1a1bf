import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runRepair } from '#app/repair.ts';
import { runVerify } from '#app/verify.ts';
import type { Asset } from '#domain/model/asset.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';
import { LibraryAssetSource, libraryPhoto } from '#test/fakes/library-asset-source.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const KEY = 'library/2023/IMG_0.HEIC';
const ANY_SHARE: DeletePolicy = { ...DEFAULT_DELETE_POLICY, maxDeleteFraction: 1 };

/** An archive holding photo 0 of a one-photo library under `KEY`, its object made of `bytes`. */
async function archiveOf(options: {
  bytes: string;
  fileChecksum?: string;
  inIcloud?: boolean;
  deletePolicy?: DeletePolicy;
}) {
  const source = new LibraryAssetSource();
  const zone = source.addZone(PRIMARY, options.inIcloud === false ? 0 : 1);
  const photo = zone.library[0];
  const state = new InMemorySyncStateStore();
  const objects = new InMemoryObjectStore();
  const queue = new InMemoryWorkQueue();
  const body = Buffer.from(options.bytes);
  const put = await objects.putStream(KEY, Readable.from([body]), {
    contentType: 'image/heic',
    contentLength: body.length,
  });
  const asset: Asset = photo ?? libraryPhoto(PRIMARY, 0);
  await state.putEntry(
    {
      zone: PRIMARY,
      assetRecordName: asset.assetRecordName,
      masterRecordName: asset.masterRecordName,
      assetChangeTag: asset.assetChangeTag,
      status: 'archived',
      flags: { isFavorite: false, isHidden: false, isDeleted: false },
      albums: [],
      // Recorded as the ten bytes iCloud serves: `bytes` stands for what the bucket holds now.
      versions: [
        {
          kind: 'original',
          key: KEY,
          size: 10,
          sha256: '0'.repeat(64),
          md5: '1'.repeat(32),
          fileChecksum: options.fileChecksum ?? asset.versions[0]!.fileChecksum,
          archivedAt: 1,
        },
      ],
      deletions: [],
    },
    0,
  );
  // Repair only looks assets up; the downloads are the workers' (tested with the archive).
  const connection: IcloudConnection = {
    source,
    session: { storedAt: 0, save: async () => undefined },
    downloader: {
      open: async () => {
        throw new Error('repair downloads nothing itself');
      },
    },
    requests: { counts: () => ({}), total: () => 0 },
  };
  const icloud = async () => connection;
  const deps = {
    state,
    objects,
    queue,
    icloud,
    versionPolicy: DEFAULT_VERSION_POLICY,
    // One object: the default 5 % lets a run delete none; these tests raise the limit as a person would.
    deletePolicy: options.deletePolicy ?? ANY_SHARE,
  };
  const { report } = await runVerify(
    { state, objects, versionPolicy: DEFAULT_VERSION_POLICY },
    { deep: false, etagsAreMd5: true },
  );
  return { deps, report, state, objects, queue, asset, put };
}

describe('runRepair', () => {
  it('removes a corrupt object, stops the manifest listing it and queues its asset looked up afresh', async () => {
    const { deps, report, state, objects, queue, asset } = await archiveOf({ bytes: 'other byte' });

    const outcome = await runRepair(deps, report);

    expect(outcome.requeued).toEqual([
      {
        zone: 'private/_/PrimarySync',
        assetRecordName: asset.assetRecordName,
        objects: [{ key: KEY, reason: 'corrupt' }],
        notArchived: false,
      },
    ]);
    expect(objects.keys()).toEqual([]);
    expect(await state.getEntry({ zone: PRIMARY, assetRecordName: asset.assetRecordName })).toMatchObject({
      status: 'pending',
      versions: [],
    });
    expect(queue.peek().flatMap((w) => w.message.items)).toEqual([{ type: 'asset', asset }]);
  });

  it('leaves an object of a version iCloud no longer serves in place and says why', async () => {
    const { deps, report, objects, queue } = await archiveOf({ bytes: 'short', fileChecksum: 'an-old-edit' });

    const outcome = await runRepair(deps, report);

    expect(outcome.unrepairable).toEqual([
      { subject: KEY, reason: 'truncated, and iCloud no longer serves this version' },
    ]);
    expect(objects.keys()).toEqual([KEY]);
    expect(queue.peek()).toEqual([]);
  });

  it('leaves the object of an asset iCloud no longer has in place and says why', async () => {
    const { deps, report, objects, queue } = await archiveOf({ bytes: 'short', inIcloud: false });

    const outcome = await runRepair(deps, report);

    expect(outcome.unrepairable).toEqual([{ subject: KEY, reason: 'iCloud no longer has this asset' }]);
    expect(objects.keys()).toEqual([KEY]);
    expect(queue.peek()).toEqual([]);
  });

  it('deletes nothing when the corrupt objects are more than one run may delete, and says so (audit finding 13)', async () => {
    // One object is always within the limit (a repair of one file needs no flag), unless the
    // person allows no deletion at all.
    const { deps, report, objects, queue, state, asset } = await archiveOf({
      bytes: 'other byte',
      deletePolicy: { ...DEFAULT_DELETE_POLICY, maxDeleteCount: 0 },
    });

    const outcome = await runRepair(deps, report);

    expect(outcome.refused).toEqual({ objects: 1, limit: 0 });
    expect(outcome.objectsReplaced).toBe(0);
    expect(outcome.unrepairable).toEqual([
      { subject: KEY, reason: expect.stringContaining('--max-delete-fraction') },
    ]);
    expect(objects.keys()).toEqual([KEY]);
    expect(await state.getEntry({ zone: PRIMARY, assetRecordName: asset.assetRecordName })).toMatchObject({
      status: 'archived',
    });
    expect(queue.peek()).toEqual([]);
  });
});
