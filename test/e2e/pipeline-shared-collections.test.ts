/**
 * New-generation Shared Albums end to end (docs/protocol/shared-albums.md#new-generation): the
 * simulator's `SharedCollection-<UUID>` zones, one the account owns (private database) and one it
 * joined (shared database), are archived under `shared-albums/<Album>/<date>/<name>` beside the
 * legacy albums, with owner and contributor; an album added, an item added, an item removed and
 * an album left are each picked up by the next sync (a change in the shared database, checked in
 * turn with the legacy listing, by one of the next two); an idle sync costs one request more than
 * with Shared Albums off.
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
  albums: {
    zoneName: string;
    title: string;
    deleted: boolean;
    owner: { who: string; name: string };
    participants: { who: string }[];
    items: {
      assetName: string;
      fileName: string;
      contributor: { name: string };
      size: number;
      fileChecksum: string;
      comments: { author: { name: string }; text: string }[];
    }[];
  }[];
}

let h: PipelineHarness;

const truth = () => h.control.call<Truth>('GET', '/sharedcollections');
const mutate = <T = Record<string, unknown>>(m: unknown) =>
  h.control.call<T>('POST', '/sharedcollections/mutate', m);

/** Album zones the signed-in account (the simulator's `owner`) sees now. */
async function visible() {
  return (await truth()).albums.filter(
    (a) => !a.deleted && (a.owner.who === 'owner' || a.participants.some((p) => p.who === 'owner')),
  );
}

async function archiveState() {
  const stack = await openLocalAwsStack({ dataDir: h.dataDir });
  try {
    const list = (await stack.sharedAlbumState.loadAlbums()) as SharedAlbumsState;
    const items = new Map<string, StoredSharedItem[]>();
    for (const guid of Object.keys(list?.albums ?? {}))
      items.set(guid, await stack.sharedAlbumState.loadItems(guid));
    return { list, items };
  } finally {
    await stack.stop();
  }
}

/** Makes the last look at every database a day old, as if a day had passed. */
async function ageEveryDatabaseAsk() {
  const stack = await openLocalAwsStack({ dataDir: h.dataDir });
  try {
    const { revision, ...list } = (await stack.sharedAlbumState.loadAlbums())!;
    await stack.sharedAlbumState.saveAlbums(
      { ...list, everyDatabaseAskedAt: Date.now() - 25 * 60 * 60 * 1000 },
      revision,
    );
  } finally {
    await stack.stop();
  }
}

async function readObject(key: string): Promise<string> {
  const stack = await openLocalAwsStack({ dataDir: h.dataDir });
  try {
    const got = await stack.objects.getStream(key);
    const chunks: Buffer[] = [];
    for await (const chunk of got!.body) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await stack.stop();
  }
}

/** The new-generation albums in state equal the simulator's: same albums, same live items, same bytes. */
async function expectArchiveEqualsTruth() {
  const snapshot = await h.snapshot();
  const { list, items } = await archiveState();
  const albums = await visible();
  const live = Object.values(list.albums).filter((a) => a.goneAt === undefined && a.album.collection);
  expect(live.map((a) => a.album.albumguid).sort()).toEqual(albums.map((a) => a.zoneName).sort());
  for (const album of albums) {
    const stored = (items.get(album.zoneName) ?? []).filter((i) => i.removedAt === undefined);
    expect(stored.map((i) => i.assetGuid).sort()).toEqual(album.items.map((i) => i.assetName).sort());
    expect(list.albums[album.zoneName]?.album.name).toBe(album.title);
    for (const item of album.items) {
      const mine = stored.find((i) => i.assetGuid === item.assetName)!;
      const object = snapshot.object(mine.key);
      expect(object, mine.key).toBeDefined();
      expect(object!.size).toBe(item.size);
      expect(object!.metadata['icloud-checksum']).toBe(item.fileChecksum);
      expect(mine.reduced).toBe(false);
    }
  }
}

let owned: string;
let joined: string;

beforeAll(async () => {
  h = await startPipelineHarness({ assets: 3, seed: 77, sharedAlbums: { enabled: true, cadenceMs: 0 } });
  owned = (await mutate<{ zoneName: string }>({ op: 'createAlbum', title: 'Ski / 2026', items: 2 })).zoneName;
  joined = (
    await mutate<{ zoneName: string }>({
      op: 'createAlbum',
      title: 'Grandma',
      owner: 'member',
      participants: ['owner'],
    })
  ).zoneName;
  const posted = await mutate<{ added: string[] }>({
    op: 'addItems',
    zoneName: joined,
    count: 2,
    contributor: 'member',
  });
  await mutate({
    op: 'comment',
    zoneName: joined,
    assetName: posted.added[0],
    who: 'owner',
    text: 'Lovely ☃',
  });
  await mutate({ op: 'addItems', zoneName: joined, count: 1, contributor: 'owner' });
  const summary = await h.sync();
  expect(summary.outcome).toBe('succeeded');
});

afterAll(async () => {
  await h?.stop();
});

describe('new-generation Shared Albums', () => {
  it('archives an owned and a joined album as the simulator holds them', async () => {
    const albums = await visible();
    expect(albums.map((a) => a.zoneName).sort()).toEqual([owned, joined].sort());
    await expectArchiveEqualsTruth();
    const { list } = await archiveState();
    expect(list.albums[owned]?.album.sharingType).toBe('owned');
    // verify (bucket against state) finds every item, and none counted as a reduced copy.
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
      const legacyItems = (
        await h.control.call<{ albums: { deleted: boolean; items: unknown[] }[] }>('GET', '/sharedstreams')
      ).albums;
      const newItems = albums.reduce((n, a) => n + a.items.length, 0);
      expect(outcome.sharedAlbums?.items).toBeGreaterThanOrEqual(newItems);
      expect((outcome.sharedAlbums?.items ?? 0) - (outcome.sharedAlbums?.reducedItems ?? 0)).toBe(newItems);
      expect(legacyItems.length).toBeGreaterThan(0);
    } finally {
      await access.close();
    }
    expect(list.albums[joined]?.album.sharingType).toBe('subscribed');
  });

  it('files items under shared-albums/<Album>/<date>/<name> with owner, contributor and the original label', async () => {
    const snapshot = await h.snapshot();
    const { items } = await archiveState();
    const keys = new Set([...(items.get(owned) ?? []), ...(items.get(joined) ?? [])].map((i) => i.key));
    const objects = snapshot.objects.filter((o) => keys.has(o.key));
    expect(objects).toHaveLength(keys.size);
    const grandma = (await visible()).find((a) => a.zoneName === joined)!;
    for (const object of objects) {
      expect(object.key).toMatch(/^shared-albums\/(Ski _ 2026|Grandma)\/(\d{4}-\d{2}-\d{2}|undated)\/[^/]+$/);
      expect(object.metadata['icloud-rendition']).toBe('original');
      expect(object.metadata['icloud-shared-owner']).toBeTruthy();
      expect(object.metadata['icloud-shared-contributor']).toBeTruthy();
    }
    const grandmaObject = objects.find((o) => o.key.startsWith('shared-albums/Grandma/'))!;
    expect(decodeURIComponent(grandmaObject.metadata['icloud-shared-owner']!)).toContain(grandma.owner.name);
    const view = JSON.parse(await readObject('shared-albums/Grandma/album.json'));
    expect(view).toMatchObject({ albumguid: joined, name: 'Grandma', generation: 'shared-collection' });
    expect(view.items.map((i: { contributor: string }) => i.contributor).sort()).toEqual(
      grandma.items.map((i) => i.contributor.name).sort(),
    );
    // The comment (a CPLTextComment record) is kept with its item.
    const commented = grandma.items.find((i) => i.comments.length > 0)!;
    const viewed = view.items.find((i: { assetGuid: string }) => i.assetGuid === commented.assetName);
    expect(viewed.comments).toMatchObject([
      { kind: 'text', text: 'Lovely ☃', author: commented.comments[0]!.author.name },
    ]);
  });

  it('status counts only the older albums items as reduced copies, and says so', async () => {
    const args = ['status', '--local', h.dataDir, '--session-file', h.signedIn.store.describe()];
    const json = await runCli([...args, '--json']);
    expect(json.code).toBe(0);
    const shared = JSON.parse(json.stdout).sharedAlbums as {
      items: number;
      reducedItems: number;
      note: string;
      list: { albumguid: string; generation: string; reducedItems: number; items: number }[];
    };
    const newItems = (await visible()).reduce((n, a) => n + a.items.length, 0);
    expect(shared.items - shared.reducedItems).toBe(newItems);
    for (const zoneName of [owned, joined]) {
      expect(shared.list.find((a) => a.albumguid === zoneName)).toMatchObject({
        generation: 'shared-collection',
        reducedItems: 0,
      });
    }
    expect(shared.note).toMatch(/^Older shared albums hold Apple's reduced copies.*new-generation/);
    const text = await runCli(args);
    expect(text.stdout).toMatch(/Shared\s+\d+ albums .* reduced copies: Older shared albums/);
  });

  it('library lists the new-generation albums beside the legacy ones, marked as such', async () => {
    const run = await runCli(['library', '--session-file', h.signedIn.store.describe(), '--json']);
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout).sharedAlbums as {
      albumguid: string;
      sharingType: string;
      generation?: string;
    }[];
    const collections = listed.filter((a) => a.generation === 'shared-collection');
    expect(collections.map((a) => [a.albumguid, a.sharingType]).sort()).toEqual(
      [
        [owned, 'owned'],
        [joined, 'subscribed'],
      ].sort(),
    );
    expect(listed.length).toBeGreaterThan(collections.length);
  });

  it('an idle sync reuses the library own changes/database and checks the legacy listing and the shared database in turn: one request more each run', async () => {
    const off = await h.measuredSync({ sharedAlbums: { enabled: false, cadenceMs: 0 } });
    const extras: Record<string, number>[] = [];
    for (let run = 0; run < 3; run++) {
      const on = await h.measuredSync();
      expect(on.summary.outcome).toBe('idle');
      extras.push(
        Object.fromEntries(
          Object.entries(on.stats.requests)
            .map(([k, n]) => [k, n - (off.stats.requests[k] ?? 0)] as const)
            .filter(([, n]) => n !== 0),
        ),
      );
      expect(on.stats.total - off.stats.total).toBe(1);
    }
    // The legacy listing, or the shared database (the joined album; the library's idle check reads
    // only the private one, whose answer covers the owned album): never both, each every other run.
    const legacyRun = { 'sharedstreams/webgetalbumslist': 1 };
    const sharedRun = changesDatabaseDelta(off.stats.requests, 1);
    expect([
      [legacyRun, sharedRun, legacyRun],
      [sharedRun, legacyRun, sharedRun],
    ]).toContainEqual(extras);
  });

  it('picks up a change to a legacy album and one to the joined album within two idle-cost runs', async () => {
    const me = (await h.control.session()).dsid ?? '';
    const legacy = await h.control.call<{
      albums: { albumguid: string; deleted: boolean; owner: { dsid: string } }[];
    }>('GET', '/sharedstreams');
    const mine = legacy.albums.find((a) => !a.deleted && a.owner.dsid === me)!;
    const before = await archiveState();
    const legacyBefore = before.items.get(mine.albumguid)?.length ?? 0;
    const joinedBefore = before.items.get(joined)?.length ?? 0;
    await h.control.call('POST', '/sharedstreams/mutate', {
      op: 'addItems',
      albumguid: mine.albumguid,
      count: 1,
      contributor: 'member',
    });
    await mutate({ op: 'addItems', zoneName: joined, count: 1, contributor: 'member' });
    await h.sync();
    await h.sync();
    const after = await archiveState();
    expect(after.items.get(mine.albumguid)?.length).toBe(legacyBefore + 1);
    expect(after.items.get(joined)?.length).toBe(joinedBefore + 1);
    await expectArchiveEqualsTruth();
  });

  it('picks up an album added, an item added, an item removed, an album left and one deleted (files kept)', async () => {
    const added = (await mutate<{ zoneName: string }>({ op: 'createAlbum', title: 'Beach', items: 1 }))
      .zoneName;
    await h.sync();
    await expectArchiveEqualsTruth();
    await mutate({ op: 'addItems', zoneName: added, count: 2, contributor: 'member' });
    const step = await h.measuredSync();
    // Only the changed zone is read (one page), two downloads.
    expect(step.stats.requests.cdn).toBe(2);
    await expectArchiveEqualsTruth();
    const beach = (await visible()).find((a) => a.zoneName === added)!;
    await mutate({ op: 'removeItem', zoneName: added, assetName: beach.items[0]!.assetName });
    await h.sync();
    await expectArchiveEqualsTruth();
    const { items } = await archiveState();
    const removed = items.get(added)!.find((i) => i.assetGuid === beach.items[0]!.assetName)!;
    expect(removed.removedAt).toBeDefined();
    // Kept by default.
    expect((await h.snapshot()).object(removed.key)).toBeDefined();
    const before = await h.snapshot();
    await mutate({ op: 'leave', zoneName: joined, who: 'owner' });
    await mutate({ op: 'deleteAlbum', zoneName: added });
    // The shared database and the legacy listing are checked in turn: a left album shows within two runs.
    await h.sync();
    await h.sync();
    await expectArchiveEqualsTruth();
    const { list } = await archiveState();
    expect(list.albums[joined]?.goneAt).toBeDefined();
    expect(list.albums[added]?.goneAt).toBeDefined();
    expect((await h.snapshot()).objects.length).toBe(before.objects.length);
    // Under keep too, the album's own view and catalog lines say it is gone (its files kept).
    for (const guid of [joined, added]) {
      const goneAt = new Date(list.albums[guid]!.goneAt!).toISOString();
      const view = JSON.parse(await readObject(`shared-albums/${list.albums[guid]!.folder}/album.json`));
      expect(view.goneAt, guid).toBe(goneAt);
      const lines = (await readObject(`catalog/shared-albums/${guid}.jsonl`)).trim().split('\n');
      expect(lines.map((l) => JSON.parse(l).sharedAlbum.goneAt)).toEqual(lines.map(() => goneAt));
    }
  });
});

describe('a new-generation album joined later', () => {
  it('is found by the daily look at every database (hostile name kept safe), then an item added to it and one removed, each by the next sync', async () => {
    const zoneName = (
      await mutate<{ zoneName: string }>({
        op: 'createAlbum',
        title: '../Gran\u202Ema: CON/..',
        owner: 'member',
        participants: ['owner'],
        items: 1,
      })
    ).zoneName;
    // No album known in the shared database, which the library's idle check does not read: a newly
    // joined album waits for the daily look at every database (docs/protocol/shared-albums.md).
    await h.sync();
    expect((await archiveState()).list.albums[zoneName]).toBeUndefined();
    await ageEveryDatabaseAsk();
    await h.sync();
    await expectArchiveEqualsTruth();
    const { list } = await archiveState();
    expect(list.albums[zoneName]?.album.sharingType).toBe('subscribed');
    const folder = list.albums[zoneName]!.folder!;
    expect(folder).not.toContain('/');
    expect(folder).not.toContain('\u202E');
    await mutate({ op: 'addItems', zoneName, count: 1, contributor: 'member' });
    // The shared database and the legacy listing are checked in turn: within two runs.
    const [first, second] = [await h.measuredSync(), await h.measuredSync()];
    const both = (key: string) => (first.stats.requests[key] ?? 0) + (second.stats.requests[key] ?? 0);
    expect(both('changes/zone')).toBe(1);
    expect(both('cdn')).toBe(1);
    await expectArchiveEqualsTruth();
    const album = (await visible()).find((a) => a.zoneName === zoneName)!;
    await mutate({ op: 'removeItem', zoneName, assetName: album.items[0]!.assetName });
    await h.sync();
    await h.sync();
    await expectArchiveEqualsTruth();
    const { items } = await archiveState();
    for (const item of items.get(zoneName)!) {
      expect(item.key.startsWith(`shared-albums/${folder}/`)).toBe(true);
      expect(item.key.split('/')).toHaveLength(4);
    }
    expect(
      items.get(zoneName)!.find((i) => i.assetGuid === album.items[0]!.assetName)!.removedAt,
    ).toBeDefined();
  });
});

describe('a new-generation item that is also in your library', () => {
  it('is stored once: the album references the library original; an item not in the library is stored', async () => {
    const library = await h.control.call<{
      assets: {
        zone: string;
        zoneOwner: string;
        assetRecordName: string;
        isDeleted: boolean;
        isHidden: boolean;
        versions: { kind: string; fileChecksum: string }[];
      }[];
    }>('GET', '/library?sha256=false');
    const photo = library.assets.find(
      (a) => a.zone === 'PrimarySync' && a.zoneOwner === 'owner' && !a.isDeleted && !a.isHidden,
    )!;
    const original = photo.versions.find((v) => v.kind === 'original')!;
    const posted = await mutate<{ added: string[] }>({
      op: 'addItems',
      zoneName: owned,
      fromLibrary: [photo.assetRecordName],
    });
    const other = await mutate<{ added: string[] }>({ op: 'addItems', zoneName: owned, count: 1 });
    // Ground truth: the copy carries the library original's checksum.
    const album = (await visible()).find((a) => a.zoneName === owned)!;
    const copy = album.items.find((i) => i.assetName === posted.added[0])!;
    expect(copy.fileChecksum).toBe(original.fileChecksum);
    expect(copy).toMatchObject({ libraryAsset: photo.assetRecordName });

    const step = await h.measuredSync();
    // The library photo's bytes are not downloaded again; the other item is.
    expect(step.stats.requests.cdn).toBe(1);
    const snapshot = await h.snapshot();
    const libraryKey = snapshot
      .entry(photo.assetRecordName)!
      .versions.find((v) => v.kind === 'original')!.key;
    const withChecksum = snapshot.objects.filter(
      (o) => o.metadata['icloud-checksum'] === original.fileChecksum,
    );
    expect(withChecksum.map((o) => o.key)).toEqual([libraryKey]);
    const { items } = await archiveState();
    const stored = items.get(owned)!;
    const referencing = stored.find((i) => i.assetGuid === posted.added[0])!;
    expect(referencing).toMatchObject({ key: libraryKey, ownsObject: false });
    expect(referencing.library).toMatchObject({ assetRecordName: photo.assetRecordName });
    const own = stored.find((i) => i.assetGuid === other.added[0])!;
    expect(own.ownsObject).toBe(true);
    expect(own.key).toMatch(/^shared-albums\/Ski _ 2026\//);
    expect(snapshot.object(own.key)).toBeDefined();
    // The album's view points at the library's key.
    const view = JSON.parse(await readObject('shared-albums/Ski _ 2026/album.json'));
    const viewed = view.items.find((i: { assetGuid: string }) => i.assetGuid === posted.added[0]);
    expect(viewed).toMatchObject({ key: libraryKey, references: libraryKey, inLibrary: true });
    await expectArchiveEqualsTruth();
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
      expect(outcome.sharedAlbums).toMatchObject({ ok: true, missing: [], extra: [] });
      expect(outcome.report.ok).toBe(true);
    } finally {
      await access.close();
    }
  });
});

describe('a new-generation item whose library twin is new in the same sync', () => {
  it('waits while the library worker archives the original, then references it: one object, in the same run', async () => {
    const added = (
      await h.control.call<{ assets: { assetRecordName: string }[] }>('POST', '/mutate', {
        op: 'add',
        kind: 'photo',
        count: 1,
      })
    ).assets[0]!;
    const posted = await mutate<{ added: string[] }>({
      op: 'addItems',
      zoneName: owned,
      fromLibrary: [added.assetRecordName],
    });
    const copy = (await visible())
      .find((a) => a.zoneName === owned)!
      .items.find((i) => i.assetName === posted.added[0])!;
    // The library's download is slow: its worker has started on the photo (it is among its master's
    // users) when the album's work, delivered beside it, finds no archived original yet.
    await h.control.injectFault({ endpoint: 'cdn', delayMs: 1_500 });
    try {
      const { summary, stats } = await h.measuredSync();
      expect(summary.outcome).toBe('succeeded');
      expect(summary.deadLetters).toBe(0);
      expect(summary.workParked ?? 0).toBe(0);
      // Only the library photo's bytes came from Apple; the album's copy was never downloaded.
      const snapshot = await h.snapshot();
      const library = snapshot.entry(added.assetRecordName)!;
      const libraryKey = library.versions.find((v) => v.kind === 'original')!.key;
      expect(stats.requests.cdn).toBe(library.versions.length);
      const withChecksum = snapshot.objects.filter(
        (o) => o.metadata['icloud-checksum'] === copy.fileChecksum,
      );
      expect(withChecksum.map((o) => o.key)).toEqual([libraryKey]);
      const { items } = await archiveState();
      const referencing = items.get(owned)!.find((i) => i.assetGuid === posted.added[0])!;
      expect(referencing).toMatchObject({ key: libraryKey, ownsObject: false });
      expect(referencing.library).toMatchObject({ assetRecordName: added.assetRecordName });
      const view = JSON.parse(await readObject('shared-albums/Ski _ 2026/album.json'));
      const viewed = view.items.find((i: { assetGuid: string }) => i.assetGuid === posted.added[0]);
      expect(viewed).toMatchObject({ key: libraryKey, references: libraryKey, inLibrary: true });
    } finally {
      await h.control.clearFaults();
    }
    await expectArchiveEqualsTruth();
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
      expect(outcome.sharedAlbums).toMatchObject({ ok: true, missing: [], extra: [] });
      expect(outcome.report.ok).toBe(true);
    } finally {
      await access.close();
    }
  });
});

describe('new-generation captions and comments in the catalog', () => {
  it('puts the post caption and each comment on the item line, read back from the bucket', async () => {
    const posted = await mutate<{ added: string[] }>({
      op: 'addItems',
      zoneName: owned,
      count: 2,
      contributor: 'member',
      caption: 'Top of the piste ⛷',
    });
    await mutate({ op: 'comment', zoneName: owned, assetName: posted.added[0], who: 'owner', text: 'Brr ❄' });
    await h.sync();
    const lines = (await readObject(`catalog/shared-albums/${owned}.jsonl`))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const album = (await visible()).find((a) => a.zoneName === owned)!;
    for (const asset of posted.added) {
      const line = lines.find((l) => l.asset === asset);
      const truthItem = album.items.find((i) => i.assetName === asset) as unknown as {
        caption: string;
        comments: { author: { name: string }; text: string }[];
      };
      expect(line).toMatchObject({
        sharedAlbum: { albumguid: owned, generation: 'shared-collection' },
        status: 'archived',
        caption: truthItem.caption,
        rendition: 'original',
        reduced: false,
      });
      expect(line.comments.map((c: { text: string; author: string }) => [c.text, c.author])).toEqual(
        truthItem.comments.map((c) => [c.text, c.author.name]),
      );
    }
    expect(lines.find((l) => l.asset === posted.added[0]).comments).toHaveLength(1);
  });
});

describe('an account whose Shared Albums are all new-generation', () => {
  it('pays at most one request more than the library on an idle run: the shared database, nothing for legacy', async () => {
    const me = (await h.control.session()).dsid ?? '';
    const legacy = await h.control.call<{
      albums: {
        albumguid: string;
        deleted: boolean;
        owner: { dsid: string };
        subscribers: { dsid: string }[];
      }[];
    }>('GET', '/sharedstreams');
    for (const album of legacy.albums.filter((a) => !a.deleted)) {
      if (album.owner.dsid === me) {
        await h.control.call('POST', '/sharedstreams/mutate', {
          op: 'deleteAlbum',
          albumguid: album.albumguid,
        });
      } else if (album.subscribers.some((s) => s.dsid === me)) {
        await h.control.call('POST', '/sharedstreams/mutate', {
          op: 'leave',
          albumguid: album.albumguid,
          who: 'owner',
        });
      }
    }
    // The legacy listing and the shared database are checked in turn: the legacy albums' going
    // shows within two runs.
    await h.sync();
    await h.sync();
    const off = await h.measuredSync({ sharedAlbums: { enabled: false, cadenceMs: 0 } });
    const on = await h.measuredSync();
    expect(on.summary.outcome).toBe('idle');
    expect(on.stats.requests['sharedstreams/webgetalbumslist'] ?? 0).toBe(0);
    // An owned album (covered by the library's own answer) and a joined one (the shared database).
    expect(on.stats.total - off.stats.total).toBe(1);
  });
});

/** The request-counter key(s) of `changes/database`, expecting `n` more of them in total. */
function changesDatabaseDelta(requests: Record<string, number>, n: number): Record<string, number> {
  const keys = Object.keys(requests).filter((k) => k.includes('changes/database'));
  expect(keys).toHaveLength(1);
  return { [keys[0]!]: n };
}

// Last: the library photo it leaves failed would be tried again by a later sync.
describe('a new-generation item whose library twin fails', () => {
  it('stores its own copy in the same run: nothing dead-lettered, nothing parked', async () => {
    const added = (
      await h.control.call<{ assets: { assetRecordName: string }[] }>('POST', '/mutate', {
        op: 'add',
        kind: 'photo',
        count: 1,
      })
    ).assets[0]!;
    const posted = await mutate<{ added: string[] }>({
      op: 'addItems',
      zoneName: owned,
      fromLibrary: [added.assetRecordName],
    });
    // The library's download of the photo fails for good (a 404): its entry says failed, with no
    // original, so the album's work does not wait (or stops waiting) and stores its own copy.
    await h.control.injectFault({ endpoint: 'cdn', status: 404, count: 1 });
    try {
      const summary = await h.sync();
      expect(summary.assets.failed).toBe(1);
      expect(summary.deadLetters).toBe(0);
      expect(summary.workParked ?? 0).toBe(0);
    } finally {
      await h.control.clearFaults();
    }
    const snapshot = await h.snapshot();
    expect(snapshot.entry(added.assetRecordName)).toMatchObject({ status: 'failed', versions: [] });
    const { items } = await archiveState();
    const own = items.get(owned)!.find((i) => i.assetGuid === posted.added[0])!;
    expect(own).toMatchObject({ ownsObject: true });
    expect(own.library).toBeUndefined();
    expect(snapshot.object(own.key)).toBeDefined();
    await expectArchiveEqualsTruth();
  });
});
