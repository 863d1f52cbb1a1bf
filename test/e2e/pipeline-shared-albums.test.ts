/**
 * Shared Albums end to end against the simulator's legacy `sharedstreams` service
 * (docs/protocol/shared-albums.md): the albums the account owns and the ones it joined are
 * archived under `shared-albums/<Album>/<date>/<name>` as labelled reduced copies; each change
 * kind (album added, album removed, item added, item removed, album left) is picked up by the
 * next sync; an idle sync costs one listing request more than the library's idle check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '#app/verify.ts';
import { openLocalArchive } from '#compose/archive-access.ts';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { SharedAlbumsState, StoredSharedItem } from '#domain/shared-albums/state.ts';
import { type PipelineHarness, startPipelineHarness } from '#test/helpers/pipeline-harness.ts';
import { runCli } from '#test/helpers/run-cli.ts';

interface Truth {
  people: { dsid: string; appleId?: string }[];
  albums: {
    albumguid: string;
    name: string;
    deleted: boolean;
    owner: { dsid: string; name: string };
    subscribers: { dsid: string }[];
    items: {
      assetGuid: string;
      fileName: string;
      contributor: { dsid: string; name: string };
      renditions: { field: string; size: number; fileChecksum: string; width: number; height: number }[];
    }[];
  }[];
}

let h: PipelineHarness;
let me: string;

const truth = () => h.control.call<Truth>('GET', '/sharedstreams');
const sharedMutate = <T = Record<string, unknown>>(m: unknown) =>
  h.control.call<T>('POST', '/sharedstreams/mutate', m);

/** Albums the account sees now, per the simulator. */
async function visible() {
  return (await truth()).albums.filter(
    (a) => !a.deleted && (a.owner.dsid === me || a.subscribers.some((s) => s.dsid === me)),
  );
}

/** The pipeline's shared-album state: the album list and each album's live items. */
async function archiveState() {
  const stack = await openLocalAwsStack({ dataDir: h.dataDir });
  try {
    const list = (await stack.sharedAlbumState.loadAlbums()) as SharedAlbumsState;
    const items = new Map<string, StoredSharedItem[]>();
    for (const guid of Object.keys(list?.albums ?? {})) {
      items.set(guid, await stack.sharedAlbumState.loadItems(guid));
    }
    return { list, items };
  } finally {
    await stack.stop();
  }
}

/** Every live item must be stored with the rendition's size; every truth item archived. */
async function expectArchiveEqualsTruth() {
  const snapshot = await h.snapshot();
  const { list, items } = await archiveState();
  const albums = await visible();
  const live = Object.values(list.albums).filter((a) => a.goneAt === undefined);
  expect(live.map((a) => a.album.albumguid).sort()).toEqual(albums.map((a) => a.albumguid).sort());
  for (const album of albums) {
    const stored = (items.get(album.albumguid) ?? []).filter((i) => i.removedAt === undefined);
    expect(stored.map((i) => i.assetGuid).sort()).toEqual(album.items.map((i) => i.assetGuid).sort());
    for (const item of album.items) {
      const mine = stored.find((i) => i.assetGuid === item.assetGuid)!;
      const object = snapshot.object(mine.key);
      expect(object, mine.key).toBeDefined();
      const original = item.renditions.find((r) => r.field === 'resOriginal')!;
      expect(object!.size).toBe(original.size);
      expect(object!.metadata['icloud-checksum']).toBe(original.fileChecksum);
    }
  }
}

/** An album's catalog lines, read from the bucket (what a NAS copy holds). */
async function catalogLines(albumguid: string): Promise<Record<string, unknown>[]> {
  const stack = await openLocalAwsStack({ dataDir: h.dataDir });
  try {
    const got = await stack.objects.getStream(`catalog/shared-albums/${albumguid}.jsonl`);
    expect(got, `catalog of ${albumguid}`).toBeDefined();
    const chunks: Buffer[] = [];
    for await (const chunk of got!.body) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  } finally {
    await stack.stop();
  }
}

/** `verify` over the local archive (bucket against state): no difference, library or shared. */
async function expectVerifyClean() {
  const access = await openLocalArchive(h.dataDir);
  try {
    const outcome = await runVerify(
      {
        state: access.state,
        objects: access.objects,
        sharedAlbumState: access.sharedAlbumState!,
        versionPolicy: DEFAULT_VERSION_POLICY,
      },
      { deep: false, etagsAreMd5: true },
    );
    expect(outcome.sharedAlbums).toMatchObject({ ok: true, missing: [], extra: [], sizeMismatches: [] });
    expect(outcome.differences).toBe(0);
    return outcome;
  } finally {
    await access.close();
  }
}

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 3, seed: 77, sharedAlbums: { enabled: true, cadenceMs: 0 } });
  me = (await h.control.session()).dsid ?? '';
  const summary = await h.sync();
  expect(summary.outcome).toBe('succeeded');
});

afterAll(async () => {
  await h?.stop();
});

describe('Shared Albums', () => {
  it('archives every item of the albums the account owns and joined, as the simulator holds them', async () => {
    const albums = await visible();
    expect(albums.some((a) => a.owner.dsid === me)).toBe(true);
    expect(albums.some((a) => a.owner.dsid !== me)).toBe(true);
    await expectArchiveEqualsTruth();
    const verified = await expectVerifyClean();
    expect(verified.sharedAlbums?.items).toBe(albums.reduce((n, a) => n + a.items.length, 0));
    expect(verified.sharedAlbums?.reducedItems).toBe(verified.sharedAlbums?.items);
  });

  it('files items under shared-albums/<Album>/<date>/<name> with owner, contributor and the reduced-copy label', async () => {
    const snapshot = await h.snapshot();
    const shared = snapshot.objects.filter(
      (o) => o.key.startsWith('shared-albums/') && !o.key.endsWith('/album.json'),
    );
    expect(shared.length).toBeGreaterThan(0);
    for (const object of shared) {
      expect(object.key).toMatch(/^shared-albums\/[^/]+\/(\d{4}-\d{2}-\d{2}|undated)\/[^/]+$/);
      expect(object.metadata['icloud-rendition']).toBe('shared-album-copy');
      expect(object.metadata['icloud-shared-owner']).toMatch(/^\d+$/);
      expect(object.metadata['icloud-shared-contributor']).toBeTruthy();
    }
  });

  it('status counts the albums and says plainly that their items are reduced copies', async () => {
    const albums = await visible();
    const args = ['status', '--local', h.dataDir, '--session-file', h.signedIn.store.describe()];
    const json = await runCli([...args, '--json']);
    expect(json.code).toBe(0);
    const shared = JSON.parse(json.stdout).sharedAlbums;
    const items = albums.reduce((n, a) => n + a.items.length, 0);
    expect(shared).toMatchObject({
      albums: albums.length,
      owned: albums.filter((a) => a.owner.dsid === me).length,
      items,
      reducedItems: items,
      pending: 0,
    });
    expect(shared.note).toMatch(/2048 px/);
    const text = await runCli(args);
    expect(text.stdout).toMatch(/Shared\s+\d+ albums .* reduced copies/);
  });

  it('library lists the albums the account owns and joined', async () => {
    const albums = await visible();
    const run = await runCli(['library', '--session-file', h.signedIn.store.describe(), '--json']);
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout).sharedAlbums as { albumguid: string; sharingType: string }[];
    expect(listed.map((a) => a.albumguid).sort()).toEqual(albums.map((a) => a.albumguid).sort());
    expect(listed.filter((a) => a.sharingType === 'owned')).toHaveLength(
      albums.filter((a) => a.owner.dsid === me).length,
    );
  });

  it('costs one listing request more than the library when nothing changed, and nothing when off', async () => {
    const off = await h.measuredSync({ sharedAlbums: { enabled: false, cadenceMs: 0 } });
    expect(Object.keys(off.stats.requests).filter((k) => k.startsWith('sharedstreams/'))).toEqual([]);
    const on = await h.measuredSync();
    expect(Object.keys(on.stats.requests).filter((k) => k.startsWith('sharedstreams/'))).toEqual([
      'sharedstreams/webgetalbumslist',
    ]);
    expect(on.stats.requests['sharedstreams/webgetalbumslist']).toBe(1);
    expect(on.stats.requests.cdn ?? 0).toBe(0);
    expect(on.stats.total - off.stats.total).toBe(1);
    expect(on.summary.outcome).toBe('idle');
  });

  it('asks nothing about Shared Albums before their cadence is due', async () => {
    const every = { enabled: true, cadenceMs: 60 * 60_000 };
    await h.sync({ sharedAlbums: every });
    const { stats } = await h.measuredSync({ sharedAlbums: every });
    expect(Object.keys(stats.requests).filter((k) => k.startsWith('sharedstreams/'))).toEqual([]);
  });

  it('picks up an added album, then an item added and an item removed', async () => {
    const added = await sharedMutate<{ albumguid: string }>({ op: 'addAlbum', name: 'Beach 2026', items: 3 });
    await h.sync();
    await expectArchiveEqualsTruth();
    await sharedMutate({ op: 'addItems', albumguid: added.albumguid, count: 2, contributor: 'member' });
    const step = await h.measuredSync();
    // Only the changed album is read: one page, two downloads.
    expect(step.stats.requests['sharedstreams/webgetassets']).toBe(1);
    expect(step.stats.requests.cdn).toBe(2);
    await expectArchiveEqualsTruth();
    const album = (await visible()).find((a) => a.albumguid === added.albumguid)!;
    await sharedMutate({
      op: 'removeItem',
      albumguid: added.albumguid,
      assetGuid: album.items[0]!.assetGuid,
    });
    await h.sync();
    await expectArchiveEqualsTruth();
    // Kept by default: the removed item's object is still there, its state says when it left.
    const { items } = await archiveState();
    const removed = items.get(added.albumguid)!.find((i) => i.assetGuid === album.items[0]!.assetGuid)!;
    expect(removed.removedAt).toBeDefined();
    expect((await h.snapshot()).object(removed.key)).toBeDefined();
  });

  it('puts each item caption, likes and comments in the catalog, read back from the bucket', async () => {
    const beach = (await visible()).find((a) => a.name === 'Beach 2026')!;
    const posted = await sharedMutate<{ added: string[] }>({
      op: 'addItems',
      albumguid: beach.albumguid,
      count: 1,
      contributor: 'member',
      caption: 'Sandcastle ☀ <b>',
    });
    const assetGuid = posted.added[0]!;
    await sharedMutate({
      op: 'comment',
      albumguid: beach.albumguid,
      assetGuid,
      who: 'owner',
      text: 'Wow 🏰',
    });
    await sharedMutate({ op: 'like', albumguid: beach.albumguid, assetGuid, who: 'grandma' });
    await h.sync();
    const truthItem = (await truth()).albums
      .find((a) => a.albumguid === beach.albumguid)!
      .items.find((i) => i.assetGuid === assetGuid) as unknown as {
      caption: string;
      contributor: { name: string };
      comments: { type: string; text: string; author: { name: string } }[];
    };
    const line = (await catalogLines(beach.albumguid)).find((l) => l.asset === assetGuid)!;
    expect(line).toMatchObject({
      sharedAlbum: { albumguid: beach.albumguid, name: 'Beach 2026', generation: 'legacy' },
      status: 'archived',
      caption: truthItem.caption,
      contributor: truthItem.contributor.name,
      likes: 1,
      rendition: 'shared-album-copy',
      reduced: true,
    });
    expect(
      (line.comments as { kind: string; text: string; author: string }[]).map((c) => [
        c.kind,
        c.text,
        c.author,
      ]),
    ).toEqual(truthItem.comments.map((c) => [c.type === '1' ? 'like' : 'text', c.text, c.author.name]));
    // Every item the album holds has its line.
    const lines = await catalogLines(beach.albumguid);
    const live = (await visible()).find((a) => a.albumguid === beach.albumguid)!.items;
    expect(
      lines
        .filter((l) => l.status === 'archived')
        .map((l) => l.asset)
        .sort(),
    ).toEqual(live.map((i) => i.assetGuid).sort());
  });

  it('picks up a joined album with a hostile name, then an item added to it and one removed', async () => {
    const name = '../Gran\u202Ema: CON/..';
    const joined = await sharedMutate<{ albumguid: string }>({
      op: 'addAlbum',
      name,
      owner: 'member',
      subscribers: ['owner'],
      items: 2,
    });
    await h.sync();
    await expectArchiveEqualsTruth();
    const { list } = await archiveState();
    expect(list.albums[joined.albumguid]?.album.sharingType).toBe('subscribed');
    const folder = list.albums[joined.albumguid]!.folder!;
    expect(folder).not.toContain('/');
    expect(folder).not.toContain('\u202E');
    expect(folder).not.toMatch(/^\.\.?$/);
    await sharedMutate({ op: 'addItems', albumguid: joined.albumguid, count: 1, contributor: 'grandma' });
    const step = await h.measuredSync();
    expect(step.stats.requests['sharedstreams/webgetassets']).toBe(1);
    expect(step.stats.requests.cdn).toBe(1);
    await expectArchiveEqualsTruth();
    const album = (await visible()).find((a) => a.albumguid === joined.albumguid)!;
    await sharedMutate({
      op: 'removeItem',
      albumguid: joined.albumguid,
      assetGuid: album.items[0]!.assetGuid,
    });
    await h.sync();
    await expectArchiveEqualsTruth();
    const { items } = await archiveState();
    for (const item of items.get(joined.albumguid)!) {
      expect(item.key.startsWith(`shared-albums/${folder}/`)).toBe(true);
      expect(item.key.split('/')).toHaveLength(4);
    }
    expect(
      items.get(joined.albumguid)!.find((i) => i.assetGuid === album.items[0]!.assetGuid)!.removedAt,
    ).toBeDefined();
  });

  it('marks an album its owner deleted, and one the account left, as gone and keeps their files', async () => {
    const albums = await visible();
    const owned = albums.find((a) => a.owner.dsid === me && a.name !== 'Beach 2026')!;
    const joined = albums.find((a) => a.owner.dsid !== me)!;
    await sharedMutate({ op: 'deleteAlbum', albumguid: owned.albumguid });
    await sharedMutate({ op: 'leave', albumguid: joined.albumguid, who: 'owner' });
    const before = await h.snapshot();
    await h.sync();
    await expectArchiveEqualsTruth();
    const { list } = await archiveState();
    expect(list.albums[owned.albumguid]?.goneAt).toBeDefined();
    expect(list.albums[joined.albumguid]?.goneAt).toBeDefined();
    expect((await h.snapshot()).objects.length).toBe(before.objects.length);
    await expectVerifyClean();
  });
  // Last: it damages the archive.
  it('verify reports a shared object whose bytes were replaced by others of the same size; --repair stores it again', async () => {
    const { list: listBefore, items } = await archiveState();
    // An album still shown: its pass can download the file again (a gone album's cannot).
    const item = [...items.entries()]
      .filter(([guid]) => listBefore.albums[guid]?.goneAt === undefined)
      .flatMap(([, albumItems]) => albumItems)
      .find((i) => i.ownsObject && i.removedAt === undefined && i.md5 !== undefined);
    expect(item, 'an item of a shown album stored with its MD5').toBeDefined();
    const stack = await openLocalAwsStack({ dataDir: h.dataDir });
    let good = '';
    try {
      const head = await stack.objects.head(item!.key);
      good = head!.etag;
      await stack.objects.putBytes(item!.key, Buffer.alloc(head!.size, 'x'), {
        contentType: 'image/jpeg',
        metadata: head!.metadata,
      });
    } finally {
      await stack.stop();
    }
    const args = [
      'verify',
      '--local',
      h.dataDir,
      '--session-file',
      h.signedIn.store.describe(),
      '--no-icloud',
    ];

    const verify = await runCli([...args, '--json']);
    const repair = await runCli([...args, '--repair', '--json']);

    expect(verify.code).toBe(5);
    const shared = JSON.parse(verify.stdout).sharedAlbums;
    expect(shared).toMatchObject({ ok: false, checksumMismatches: [{ key: item!.key, algorithm: 'md5' }] });
    expect(shared.md5Compared).toBeGreaterThan(0);
    expect(repair.code, repair.stderr).toBe(0);
    expect(JSON.parse(repair.stdout)).toMatchObject({
      status: 'repaired',
      repair: { left: 0, sharedReplaced: [{ key: item!.key, reason: 'corrupt' }] },
    });
    const again = await runCli([...args, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).sharedAlbums).toMatchObject({ ok: true, checksumMismatches: [] });
    const after = await openLocalAwsStack({ dataDir: h.dataDir });
    try {
      expect((await after.objects.head(item!.key))!.etag).toBe(good);
    } finally {
      await after.stop();
    }
    // One owner, counted once: the album's object count is what it was.
    const { list, items: itemsAfter } = await archiveState();
    const records = [...itemsAfter.values()].flat().filter((i) => i.key === item!.key);
    expect(records.filter((i) => i.ownsObject && i.objectDeletedAt === undefined)).toHaveLength(1);
    expect(
      Object.values(list.albums).every((a) => a.archivedCtag === a.album.ctag || a.goneAt !== undefined),
    ).toBe(true);
  });
});
