/**
 * A new-generation Shared Album item stored once with your library (it references the library's
 * original) after the state is lost and rebuilt from the bucket (`rebuild-state`): the rebuilt
 * state still records the item among the library master's users, so the library's `mirror` purge
 * keeps the object while the album shows it, and the item removed from the album then deletes it
 * (docs/archive-layout.md#11-state-from-the-bucket, #12-shared-albums "Stored once").
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import type { StoredSharedItem } from '#domain/shared-albums/state.ts';
import { type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';
import { runCli } from '#test/helpers/run-cli.ts';

const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 1, maxDeleteCount: 1000 };

let h: PipelineHarness;
const mutate = <T = Record<string, unknown>>(m: unknown) =>
  h.control.call<T>('POST', '/sharedcollections/mutate', m);

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 4, seed: 151, sharedAlbums: { enabled: true, cadenceMs: 0 } });
});

afterAll(async () => {
  await h?.stop();
});

/** A mirror sync that must fail nothing and stop for nothing (`outcome` says what the library did). */
async function sync() {
  const summary = await h.sync({ deletePolicy: MIRROR });
  expect(summary.failures).toEqual([]);
  expect(summary.assets.failed).toBe(0);
  expect(summary.deadLetters).toBe(0);
  return summary;
}

async function sharedState() {
  const stack = await openLocalAwsStack({ dataDir: h.dataDir });
  try {
    const list = (await stack.sharedAlbumState.loadAlbums()) ?? { albums: {}, revision: 0 };
    const items = new Map<string, StoredSharedItem[]>();
    for (const guid of Object.keys(list.albums))
      items.set(guid, await stack.sharedAlbumState.loadItems(guid));
    return { albums: list.albums, items };
  } finally {
    await stack.stop();
  }
}

async function sharedItems(albumguid: string) {
  const stack = await openLocalAwsStack({ dataDir: h.dataDir });
  try {
    return await stack.sharedAlbumState.loadItems(albumguid);
  } finally {
    await stack.stop();
  }
}

describe('rebuild-state and a Shared Album item stored once with the library', () => {
  it('keeps the library original the album shows through a mirror purge, and deletes it once the album lets go', async () => {
    const library = await h.control.call<{
      assets: {
        zone: string;
        zoneOwner: string;
        assetRecordName: string;
        isDeleted: boolean;
        isHidden: boolean;
      }[];
    }>('GET', '/library?sha256=false');
    const photo = library.assets.find(
      (a) => a.zone === 'PrimarySync' && a.zoneOwner === 'owner' && !a.isDeleted && !a.isHidden,
    )!;
    const album = (await mutate<{ zoneName: string }>({ op: 'createAlbum', title: 'Beach', items: 1 }))
      .zoneName;
    expect((await sync()).outcome).toBe('succeeded');
    const posted = await mutate<{ added: string[] }>({
      op: 'addItems',
      zoneName: album,
      fromLibrary: [photo.assetRecordName],
    });
    await sync();
    const libraryKey = (await h.snapshot())
      .entry(photo.assetRecordName)!
      .versions.find((v) => v.kind === 'original')!.key;
    expect((await sharedItems(album)).find((i) => i.assetGuid === posted.added[0])).toMatchObject({
      key: libraryKey,
      ownsObject: false,
    });

    const lost = await sharedState();
    // The state is lost (the local DynamoDB's files are gone, the bucket stays) and rebuilt.
    await rm(join(h.dataDir, 'aws', 'dynamodb'), { recursive: true, force: true });
    const rebuilt = await runCli(['rebuild-state', '--local', h.dataDir, '--json']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({
      status: 'ok',
      sharedAlbums: Object.keys(lost.albums).length,
      sharedItems: [...lost.items.values()].flat().length,
      libraryReferences: 1,
      unresolvedReferences: [],
    });
    // Every album and item as it was (but the albums' ctags, which only Apple can say again).
    const found = await sharedState();
    for (const [guid, album] of Object.entries(lost.albums)) {
      expect(found.albums[guid], guid).toMatchObject({
        folder: album.folder,
        itemCount: album.itemCount,
        reducedCount: album.reducedCount,
        album: { albumguid: guid, name: album.album.name, ownerDsid: album.album.ownerDsid },
      });
      const comparable = (items: readonly StoredSharedItem[] | undefined) =>
        (items ?? [])
          .map(({ archivedAt: _at, ...rest }) => rest)
          .sort((a, b) => a.assetGuid.localeCompare(b.assetGuid));
      expect(comparable(found.items.get(guid)), guid).toEqual(comparable(lost.items.get(guid)));
    }
    expect((await sharedItems(album)).find((i) => i.assetGuid === posted.added[0])).toMatchObject({
      key: libraryKey,
      ownsObject: false,
      library: { assetRecordName: photo.assetRecordName },
    });

    // The person deletes the photo from the library; the album still shows it.
    await h.mutate({ op: 'purge', assetRecordName: photo.assetRecordName });
    await h.control.resetStats();
    expect((await sync()).outcome).toBe('succeeded');
    // Every album read once more, every file found in place, no item's comments asked again.
    const stats = await h.control.stats();
    expect(stats.requests.cdn ?? 0).toBe(0);
    expect(stats.requests['sharedstreams/getcomments'] ?? 0).toBe(0);
    const after = await h.snapshot();
    expect(after.entry(photo.assetRecordName)?.status).toBe('purged');
    expect(after.object(libraryKey), 'the only copy, which the album shows').toBeDefined();
    const item = (await sharedItems(album)).find((i) => i.assetGuid === posted.added[0]);
    expect(item).toMatchObject({ key: libraryKey, ownsObject: false });
    expect(item?.removedAt).toBeUndefined();

    // Removed from the album too: nothing shows it any more, so mirror deletes it.
    await mutate({ op: 'removeItem', zoneName: album, assetName: posted.added[0] });
    await sync();
    expect((await h.snapshot()).object(libraryKey)).toBeUndefined();
    expect((await sharedItems(album)).find((i) => i.assetGuid === posted.added[0])).toMatchObject({
      removedAt: expect.any(Number),
      objectDeletedAt: expect.any(Number),
    });
  });
});
