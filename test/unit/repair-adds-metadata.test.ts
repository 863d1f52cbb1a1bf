/**
 * `verify --repair` over a video over 5 GiB archived by an earlier version of the workers: its
 * multipart upload got no rewrite, so its current version has only the up-front metadata (no
 * `icloud-sha256`, no `md5chksum`) and the staging tag. Repair gives it the manifest's hashes by a
 * same-key rewrite (`ObjectStore.addMetadata`), without downloading or re-archiving it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runRepair } from '#app/repair.ts';
import { runVerify } from '#app/verify.ts';
import type { ZoneRef } from '#domain/model/zone.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { STAGING_TAG } from '#shared/env-names.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';

const PRIMARY: ZoneRef = { database: 'private', zoneName: 'PrimarySync' };
const KEY = 'library/2021/2021-07-04/IMG_0042.MOV';
const BYTES = Buffer.from('a long video, in spirit: more bytes than one CopyObject takes');
const MD5 = createHash('md5').update(BYTES).digest('hex');
const SHA256 = createHash('sha256').update(BYTES).digest('hex');
/** Smaller than the video, so the fake rewrites it as a multipart copy (a `-N` ETag), as S3 over 5 GiB. */
const MAX_COPY_BYTES = 16;
const UPFRONT = { mtime: '1625400000', 'icloud-asset': 'AssetOld' };

/** An archive whose one video is such an old object, its hashes in the manifest. */
async function oldVideoArchive() {
  const state = new InMemorySyncStateStore();
  const objects = new InMemoryObjectStore({ maxCopyBytes: MAX_COPY_BYTES });
  const old = objects.putAsEarlierWorkers(KEY, BYTES, {
    contentType: 'video/quicktime',
    metadata: UPFRONT,
    parts: 2,
  });
  await state.putEntry(
    {
      zone: PRIMARY,
      assetRecordName: 'AssetOld',
      masterRecordName: 'MasterOld',
      assetChangeTag: 'c1',
      status: 'archived',
      flags: { isFavorite: false, isHidden: false, isDeleted: false },
      albums: [],
      versions: [
        {
          kind: 'original',
          key: KEY,
          size: BYTES.length,
          sha256: SHA256,
          md5: MD5,
          fileChecksum: 'fc-old',
          archivedAt: 1,
          etag: old.etag,
        },
      ],
      deletions: [],
    },
    0,
  );
  const deps = {
    state,
    objects,
    queue: new InMemoryWorkQueue(),
    // Adding metadata needs neither iCloud nor a download.
    icloud: async () => {
      throw new Error('repair opened iCloud');
    },
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: DEFAULT_DELETE_POLICY,
  };
  const verify = () =>
    runVerify({ state, objects, versionPolicy: DEFAULT_VERSION_POLICY }, { deep: false, etagsAreMd5: true });
  return { deps, objects, verify, old };
}

describe('verify --repair over a video archived without its late metadata', () => {
  it('stays md5Unavailable, unchanged, when verify runs without --repair', async () => {
    const { objects, verify, old } = await oldVideoArchive();

    const { report } = await verify();

    expect(report.ok).toBe(true);
    expect(report.checked).toMatchObject({ md5Compared: 0, md5Unavailable: 1 });
    expect(report.md5UnavailableObjects).toEqual([
      { key: KEY, zone: 'private/_/PrimarySync', assetRecordName: 'AssetOld', etag: old.etag },
    ]);
    expect(await objects.head(KEY)).toMatchObject({ etag: old.etag, metadata: UPFRONT });
    expect(objects.tagsOf(KEY)).toEqual({ [STAGING_TAG.key]: STAGING_TAG.value });
  });

  it('adds icloud-sha256 and md5chksum from the manifest, drops the staging tag, keeps the bytes', async () => {
    const { deps, objects, verify, old } = await oldVideoArchive();
    const { report } = await verify();

    const outcome = await runRepair(deps, report);

    const head = await objects.head(KEY);
    expect(outcome.metadataAdded).toEqual([{ key: KEY, etag: head?.etag }]);
    expect(outcome.metadataNotAdded).toEqual([]);
    expect(outcome).toMatchObject({ requeued: [], objectsReplaced: 0, itemsEnqueued: 0 });
    expect(head).toMatchObject({
      contentType: 'video/quicktime',
      metadata: {
        ...UPFRONT,
        'icloud-sha256': SHA256,
        md5chksum: Buffer.from(MD5, 'hex').toString('base64'),
      },
    });
    expect(head?.etag).not.toBe(old.etag);
    expect(objects.tagsOf(KEY)).toEqual({});
    const read = await objects.getStream(KEY);
    expect(Buffer.concat(await read!.body.toArray())).toEqual(BYTES);
  });

  it('is checked by its md5chksum on the next verify', async () => {
    const { deps, verify } = await oldVideoArchive();
    await runRepair(deps, (await verify()).report);

    const { report } = await verify();

    expect(report.ok).toBe(true);
    expect(report.checked).toMatchObject({ md5Compared: 1, md5Unavailable: 0 });
    expect(report.md5UnavailableObjects).toEqual([]);
  });

  it('leaves an object whose ETag changed since verify read it alone, and says so', async () => {
    const { deps, objects, verify } = await oldVideoArchive();
    const { report } = await verify();
    // Another writer's version lands between verify and repair.
    const theirs = objects.putAsEarlierWorkers(KEY, BYTES, {
      contentType: 'video/quicktime',
      metadata: { mtime: '1' },
      parts: 3,
    });

    const outcome = await runRepair(deps, report);

    expect(outcome.metadataAdded).toEqual([]);
    expect(outcome.metadataNotAdded).toEqual([
      { subject: KEY, reason: expect.stringContaining('changed since verify read it') },
    ]);
    expect(await objects.head(KEY)).toMatchObject({ etag: theirs.etag, metadata: { mtime: '1' } });
    expect(objects.tagsOf(KEY)).toEqual({ [STAGING_TAG.key]: STAGING_TAG.value });
  });
});

describe('InMemoryObjectStore.addMetadata', () => {
  it('refuses a rewrite whose ETag is no longer current (412 in S3), changing nothing', async () => {
    const { objects, old } = await oldVideoArchive();

    const result = await objects.addMetadata(KEY, {
      ifEtag: `${old.etag}x`,
      md5: MD5,
      metadata: { 'icloud-sha256': SHA256 },
    });

    expect(result).toEqual({ added: false, why: 'changed' });
    expect(await objects.head(KEY)).toMatchObject({ etag: old.etag, metadata: UPFRONT });
  });
});
