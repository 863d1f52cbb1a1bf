/**
 * The Shared Albums adapter against the simulator's legacy `sharedstreams` service, signed in as
 * `icloud-s3 login` does: the listing (owned and joined albums), pages whose `limit` is an end
 * index, the 330 host redirect (followed once, then remembered), 404 for an album that left the
 * account's view, and no request at all when the session lists no service.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openIcloudSession } from '#adapters/icloud/session/open-session.ts';
import { SharedStreamsClient } from '#adapters/icloud/sharedstreams/sharedstreams-client.ts';
import {
  SharedStreamsItems,
  SharedStreamsSource,
} from '#adapters/icloud/sharedstreams/sharedstreams-source.ts';
import { RateLimitedError, UnexpectedResponseError } from '#domain/errors.ts';
import { SharedAlbumGoneError } from '#domain/shared-albums/errors.ts';
import { createLogger } from '#shared/logger.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

interface Truth {
  people: { dsid: string; appleId?: string }[];
  albums: {
    albumguid: string;
    name: string;
    deleted: boolean;
    owner: { dsid: string };
    subscribers: { dsid: string }[];
    items: { assetGuid: string; fileName: string; contributor: { dsid: string } }[];
  }[];
}

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let signedIn: SignedIn;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 2, seed: 5 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-sharedstreams-'));
  signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await control.clearFaults();
  await control.resetStats();
});

async function openSource(baseUrl?: (url: string | undefined) => string | undefined) {
  const session = await openIcloudSession({ ...signedIn, logger: createLogger({ level: 'SILENT' }) });
  const client = new SharedStreamsClient({
    http: session.http,
    baseUrl: () => (baseUrl ? baseUrl(session.sharedstreamsUrl?.()) : session.sharedstreamsUrl?.()),
    dsid: session.dsid,
    clientId: session.clientId,
    retry: { sleep: async () => undefined },
  });
  return { source: new SharedStreamsSource(client), items: new SharedStreamsItems(client), session };
}

async function visibleTruth(dsid: string) {
  const truth = await control.call<Truth>('GET', '/sharedstreams');
  return truth.albums.filter(
    (a) => !a.deleted && (a.owner.dsid === dsid || a.subscribers.some((s) => s.dsid === dsid)),
  );
}

describe('SharedStreamsSource against the simulator', () => {
  it('lists the albums the account owns and the ones it joined, in one request', async () => {
    const { source, session } = await openSource();
    const list = await source.listAlbums();
    const truth = await visibleTruth(session.dsid);
    expect(list.available).toBe(true);
    expect(list.albums.map((a) => a.albumguid).sort()).toEqual(truth.map((a) => a.albumguid).sort());
    expect(new Set(list.albums.map((a) => a.sharingType))).toEqual(new Set(['owned', 'subscribed']));
    for (const album of list.albums) {
      expect(album.ctag).not.toBe('');
      expect(album.ownerDsid).not.toBe('');
    }
  });

  it('reads every item of an album through pages whose limit is the end index', async () => {
    const { source, session } = await openSource();
    const [album] = (await source.listAlbums()).albums.filter((a) => a.sharingType === 'owned');
    const truth = (await visibleTruth(session.dsid)).find((a) => a.albumguid === album!.albumguid)!;
    const seen: string[] = [];
    for (let offset = 0; ; offset += 2) {
      const page = await source.itemsPage(album!, offset, offset + 2);
      expect(page.problems).toEqual([]);
      if (page.items.length === 0) break;
      seen.push(...page.items.map((i) => i.assetGuid));
    }
    expect(seen).toEqual(truth.items.map((i) => i.assetGuid));
  });

  it("reads the items and comments of a listed album in the workers' part (SharedStreamsItems) as the whole source does", async () => {
    const { source, items } = await openSource();
    expect('listAlbums' in items).toBe(false);
    const [album] = (await source.listAlbums()).albums.filter((a) => a.sharingType === 'owned');
    const page = await items.itemsPage(album!, 0, 100);
    const whole = await source.itemsPage(album!, 0, 100);
    // Each answer signs its download URLs afresh: the items, not their URLs, are compared.
    expect(page.items.map((i) => i.assetGuid)).toEqual(whole.items.map((i) => i.assetGuid));
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.problems).toEqual(whole.problems);
    const first = page.items[0]!;
    expect(await items.comments(album!, first.assetGuid)).toEqual(
      await source.comments(album!, first.assetGuid),
    );
  });

  it('maps each item with its contributor, its file name and a reduced rendition with its true size', async () => {
    const { source, session } = await openSource();
    const [album] = (await source.listAlbums()).albums.filter((a) => a.sharingType === 'owned');
    const truth = (await visibleTruth(session.dsid)).find((a) => a.albumguid === album!.albumguid)!;
    const { items } = await source.itemsPage(album!, 0, 100);
    expect(items.map((i) => i.fileName)).toEqual(truth.items.map((i) => i.fileName));
    expect(items.map((i) => i.contributorDsid)).toEqual(truth.items.map((i) => i.contributor.dsid));
    for (const item of items) {
      expect(item.rendition.field).toBe('resOriginalRes');
      expect(item.rendition.size).toBeGreaterThan(0);
      expect(Math.max(item.rendition.width ?? 0, item.rendition.height ?? 0)).toBeLessThanOrEqual(5400);
    }
  });

  it('asks nothing when the last listing found no legacy album, until every database is due again', async () => {
    const { source } = await openSource();
    const listed = (await source.listAlbums()).albums;
    const collection = {
      ...listed[0]!,
      albumguid: 'SharedCollection-11111111-1111-4111-8111-111111111111',
      collection: {
        database: 'private' as const,
        zoneName: 'SharedCollection-11111111-1111-4111-8111-111111111111',
        ownerRecordName: '_owner',
      },
    };
    await control.resetStats();
    const none = await source.listAlbums({ albums: [collection], askEveryDatabase: false });
    expect(none).toMatchObject({ available: true, albums: [] });
    expect((await control.stats()).requests['sharedstreams/webgetalbumslist'] ?? 0).toBe(0);
    // A legacy album known, or the daily look at everything: one listing each.
    await source.listAlbums({ albums: [listed[0]!], askEveryDatabase: false });
    await source.listAlbums({ albums: [], askEveryDatabase: true });
    expect((await control.stats()).requests['sharedstreams/webgetalbumslist']).toBe(2);
  });

  it('follows a 330 to the host it names and goes straight there afterwards', async () => {
    const { source } = await openSource((url) => url?.replace(/p(\d+)-sharedstreams/, 'p199-sharedstreams'));
    await source.listAlbums();
    await source.listAlbums();
    const requests = (await control.requests(10)).requests.filter((r) => r.path.endsWith('webgetalbumslist'));
    expect(requests.slice(-3).map((r) => r.status)).toEqual([330, 200, 200]);
    const [first, second, third] = requests.slice(-3).map((r) => r.host);
    expect(first).toMatch(/^p199-/);
    expect(second).not.toMatch(/^p199-/);
    expect(third).toBe(second);
  });

  it('reads a 200 "try again later" body as an error it retries, never as an empty list', async () => {
    const { source } = await openSource();
    await control.injectFault({
      endpoint: 'sharedstreams/webgetalbumslist',
      mode: 'try-again-later',
      count: 1,
    });
    expect((await source.listAlbums()).albums.length).toBeGreaterThan(0);
    await control.injectFault({
      endpoint: 'sharedstreams/webgetalbumslist',
      mode: 'try-again-later',
      count: 10,
    });
    await expect(source.listAlbums()).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('refuses a listing without its albums field (it would mark every known album gone)', async () => {
    const { source } = await openSource();
    await control.injectFault({
      endpoint: 'sharedstreams/webgetalbumslist',
      status: 200,
      body: {},
      count: 10,
    });
    await expect(source.listAlbums()).rejects.toBeInstanceOf(UnexpectedResponseError);
  });

  it('reports an album that left the account view as gone', async () => {
    const { source } = await openSource();
    const album = (await source.listAlbums()).albums.find((a) => a.sharingType === 'subscribed')!;
    await control.call('POST', '/sharedstreams/mutate', { op: 'leave', albumguid: album.albumguid });
    await expect(source.itemsPage(album, 0, 10)).rejects.toBeInstanceOf(SharedAlbumGoneError);
  });

  it('asks Apple nothing when the session lists no shared-albums service', async () => {
    const { source } = await openSource(() => undefined);
    expect(await source.listAlbums()).toEqual({ available: false, albums: [] });
    expect((await control.stats()).requests['sharedstreams/webgetalbumslist'] ?? 0).toBe(0);
  });
});
