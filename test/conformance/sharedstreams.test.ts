/**
 * Legacy Shared Albums, the `sharedstreams` web service (statements SA-1 to SA-26 of the shared-albums
 * research; docs in simulator/README.md, "Shared albums"). Every call goes over HTTP through the
 * simulator's host rewrite, with the cookies of a trusted session.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { controlClient, type SimSession, startTestSimulator } from '../helpers/simulator.ts';

interface Album {
  albumguid: string;
  albumlocation: string;
  albumctag: string;
  ownerdsid: string;
  sharingtype: string;
  iswebuploadsupported: string;
  publicurl?: string;
  attributes: { name: string; creationDate: string; allowcontributions: string; ispublic: string };
}
interface CkRecord {
  recordName: string;
  recordType: string;
  fields: Record<string, { value: unknown; type?: string }>;
  pluginFields?: Record<string, { value: unknown }>;
}
interface Truth {
  people: { dsid: string; name: string; appleId?: string; partition: number }[];
  albums: {
    albumguid: string;
    name: string;
    deleted: boolean;
    albumctag: string;
    owner: { dsid: string };
    pending: { dsid: string }[];
    items: {
      assetGuid: string;
      kind: string;
      original: { width: number; height: number };
      renditions: { field: string; width: number; height: number; size: number; uti: string }[];
    }[];
  }[];
}

/** The `${f}` file-name slot of CloudKit download URLs. */
const FILE_SLOT = /\$\{f\}/;

let sim: SimulatorHandle;
let control: ReturnType<typeof controlClient>;
let owner: SimSession;
let member: SimSession;

/** `https://pNN-sharedstreams.icloud.com:443` of a session (what accountLogin lists). */
const base = (s: SimSession) => s.ckdatabasewsUrl.replace('-ckdatabasews.', '-sharedstreams.');

async function post(url: string, body: unknown, s: SimSession | null = owner, init: RequestInit = {}) {
  const res = await fetch(toSimulatorUrl(url, sim.baseUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...(s ? { Cookie: s.cookie } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: answers of many shapes; each test asserts what it reads.
  return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : undefined) as any };
}

const account = (name: string, s: SimSession = owner) => `${base(s)}/${s.dsid}/sharedstreams/${name}`;
const albumsOf = async (s: SimSession = owner): Promise<Album[]> =>
  (await post(account('webgetalbumslist', s), {}, s)).json.albums;
const albumNamed = async (name: string, s: SimSession = owner) =>
  (await albumsOf(s)).find((a) => a.attributes.name === name)!;
const assets = (album: Album, offset: number | string, limit: number | string, s: SimSession = owner) =>
  post(
    `${album.albumlocation}webgetassets`,
    { albumguid: album.albumguid, albumctag: album.albumctag, offset: String(offset), limit: String(limit) },
    s,
  );
const truth = () => control.call<Truth>('GET', '/sharedstreams');
const mutate = <T = Record<string, unknown>>(m: unknown) =>
  control.call<T>('POST', '/sharedstreams/mutate', m);
const items = (records: CkRecord[], type: string) => records.filter((r) => r.recordType === type);

beforeAll(async () => {
  sim = await startTestSimulator({ seed: 15 });
  control = controlClient(sim);
  owner = await control.session();
  member = await control.session(sim.member.appleId);
});

afterAll(() => sim.stop());

afterEach(async () => {
  await control.call('POST', '/sharedstreams/quirks', { reset: true });
});

describe('legacy shared albums: discovery and transport', () => {
  it('SA-1: accountLogin lists webservices.sharedstreams on the account partition; a flag removes it', async () => {
    const validate = () =>
      fetch(`${sim.setupUrl}/validate`, {
        method: 'POST',
        headers: { Cookie: owner.cookie },
        body: 'null',
      }).then((r) => r.json() as Promise<{ webservices: Record<string, { url: string; status: string }> }>);
    const doc = await validate();
    const partition = /^https:\/\/p(\d+)-ckdatabasews/.exec(owner.ckdatabasewsUrl)![1];
    expect(doc.webservices['sharedstreams']).toEqual({
      url: `https://p${partition}-sharedstreams.icloud.com:443`,
      status: 'active',
    });
    await control.setFlags({ sharedStreams: false });
    try {
      expect((await validate()).webservices).not.toHaveProperty('sharedstreams');
    } finally {
      await control.setFlags({ sharedStreams: true });
    }
  });

  it('SA-2: every sharedstreams endpoint accepts only POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(toSimulatorUrl(account('webgetalbumslist'), sim.baseUrl), {
        method,
        headers: { Cookie: owner.cookie },
      });
      expect(res.status, method).toBe(405);
    }
  });

  it('SA-3: no or a stale session cookie answers 401; CloudKit cookies authorise sharedstreams', async () => {
    expect((await post(account('webgetalbumslist'), {}, null)).status).toBe(401);
    const stale = {
      ...owner,
      cookie: owner.cookie.replace(/X-APPLE-WEBAUTH-TOKEN=[^;]*/, 'X-APPLE-WEBAUTH-TOKEN="v=2:t=AAAA"'),
    };
    expect((await post(account('webgetalbumslist'), {}, stale)).status).toBe(401);
    expect((await post(account('webgetalbumslist'), {})).status).toBe(200);
  });

  it('SA-4: the body is JSON whatever the Content-Type; extra query parameters are ignored', async () => {
    const url = `${account('webgetalbumslist')}?clientBuildNumber=2614Project&clientMasteringNumber=2614B21&clientId=abc&dsid=${owner.dsid}&remapEnums=true&getCurrentSyncToken=true`;
    for (const type of ['text/plain', 'application/json', 'plain/text']) {
      const r = await post(url, '{}', owner, { headers: { 'Content-Type': type, Cookie: owner.cookie } });
      expect(r.status, type).toBe(200);
      expect(r.json.albums.length).toBeGreaterThan(0);
    }
  });

  it('SA-5: the wrong partition answers 330 naming the right host; a subscribed album lives elsewhere', async () => {
    const wrong = account('webgetalbumslist').replace(/\/\/p\d+-/, '//p1-');
    const r = await post(wrong, {});
    const right = new URL(base(owner)).hostname;
    expect(r.status).toBe(330);
    expect(r.json).toEqual({ 'X-Apple-MMe-Host': right });
    expect(r.headers.get('x-apple-mme-host')).toBe(right);
    expect((await post(`https://${right}:443/${owner.dsid}/sharedstreams/webgetalbumslist`, {})).status).toBe(
      200,
    );

    const subscribed = (await albumsOf()).find((a) => a.sharingtype === 'subscribed')!;
    expect(new URL(subscribed.albumlocation).hostname).not.toBe(right);
    const misplaced = subscribed.albumlocation.replace(/\/\/p\d+-/, `//${right.split('-')[0]}-`);
    const moved = await post(`${misplaced}webgetassetcount`, { albumguid: subscribed.albumguid });
    expect(moved.status).toBe(330);
    expect(moved.json['X-Apple-MMe-Host']).toBe(new URL(subscribed.albumlocation).hostname);
  });

  it('SA-5: a switch names the host only in the body or only in the header', async () => {
    const wrong = account('webgetalbumslist').replace(/\/\/p\d+-/, '//p1-');
    await control.call('POST', '/sharedstreams/quirks', { redirectIn: 'header' });
    const headerOnly = await post(wrong, {});
    expect(headerOnly.json).toEqual({});
    expect(headerOnly.headers.get('x-apple-mme-host')).toMatch(/^p\d+-sharedstreams\.icloud\.com$/);
    await control.call('POST', '/sharedstreams/quirks', { redirectIn: 'body' });
    const bodyOnly = await post(wrong, {});
    expect(bodyOnly.headers.get('x-apple-mme-host')).toBeNull();
    expect(bodyOnly.json['X-Apple-MMe-Host']).toMatch(/^p\d+-sharedstreams\.icloud\.com$/);
  });

  it('SA-6: another or a malformed dsid in the path answers 401', async () => {
    expect((await post(`${base(owner)}/${member.dsid}/sharedstreams/webgetalbumslist`, {})).status).toBe(401);
    expect((await post(`${base(owner)}/not-a-dsid/sharedstreams/webgetalbumslist`, {})).status).toBe(401);
  });
});

describe('legacy shared albums: listing', () => {
  it('SA-7: webgetalbumslist lists owned and subscribed albums with every field, flags as "1"/"0"', async () => {
    const albums = await albumsOf();
    expect(new Set(albums.map((a) => a.sharingtype))).toEqual(new Set(['owned', 'subscribed']));
    for (const a of albums) {
      expect(a.albumguid).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-8[0-9A-F]{3}-[0-9A-F]{12}$/);
      expect(a.albumlocation).toMatch(
        /^https:\/\/p\d+-sharedstreams\.icloud\.com:443\/[^/]+\/sharedstreams\/$/,
      );
      expect(a.albumctag).toEqual(expect.any(String));
      expect(a.ownerdsid).toMatch(/^\d+$/);
      expect(a.iswebuploadsupported).toMatch(/^[01]$/);
      expect(a.attributes.creationDate).toMatch(/^\d{13}$/);
      expect(a.attributes.allowcontributions).toMatch(/^[01]$/);
      expect(a.attributes.ispublic).toMatch(/^[01]$/);
      expect('publicurl' in a).toBe(a.attributes.ispublic === '1');
      expect(a.ownerdsid === owner.dsid).toBe(a.sharingtype === 'owned');
    }
    expect(albums.some((a) => a.attributes.ispublic === '1')).toBe(true);
    // Names are not unique across accounts' albums: key by albumguid.
    expect(new Set(albums.map((a) => a.albumguid)).size).toBe(albums.length);
  });

  it('SA-7: the same seed gives the same albums, another seed others', async () => {
    const listed = async (seed: number) => {
      const other = await startTestSimulator({ seed });
      try {
        const s = await controlClient(other).session();
        const res = await fetch(
          toSimulatorUrl(`${base(s)}/${s.dsid}/sharedstreams/webgetalbumslist`, other.baseUrl),
          {
            method: 'POST',
            headers: { Cookie: s.cookie },
            body: '{}',
          },
        );
        return ((await res.json()) as { albums: Album[] }).albums;
      } finally {
        await other.stop();
      }
    };
    const same = await listed(15);
    const mine = await albumsOf();
    expect(same.length).toBeGreaterThanOrEqual(4);
    for (const a of same) {
      expect(mine.find((m) => m.albumguid === a.albumguid)).toMatchObject({
        albumlocation: a.albumlocation,
        attributes: { name: a.attributes.name, creationDate: a.attributes.creationDate },
      });
    }
    const guids = new Set(mine.map((a) => a.albumguid));
    expect((await listed(16)).some((a) => guids.has(a.albumguid))).toBe(false);
  });

  it('SA-8: a pending invitation is not listed', async () => {
    const pending = (await truth()).albums.filter((a) => a.pending.some((p) => p.dsid === owner.dsid));
    expect(pending.length).toBeGreaterThan(0);
    const listed = (await albumsOf()).map((a) => a.albumguid);
    for (const a of pending) expect(listed).not.toContain(a.albumguid);
  });

  it('SA-9: albumctag changes when items are added, removed, liked or commented, and only then', async () => {
    const ctag = async () => (await albumNamed('Garden')).albumctag;
    const first = await ctag();
    expect(await ctag()).toBe(first);
    const { albumguid } = await albumNamed('Garden');
    const { added } = await mutate<{ added: string[] }>({ op: 'addItems', albumguid, count: 1 });
    const afterAdd = await ctag();
    expect(afterAdd).not.toBe(first);
    await mutate({ op: 'like', albumguid, assetGuid: added[0], who: 'member' });
    const afterLike = await ctag();
    expect(afterLike).not.toBe(afterAdd);
    await mutate({ op: 'comment', albumguid, assetGuid: added[0], who: 'member', text: 'nice' });
    const afterComment = await ctag();
    expect(afterComment).not.toBe(afterLike);
    await mutate({ op: 'removeItem', albumguid, assetGuid: added[0] });
    const afterRemove = await ctag();
    expect(afterRemove).not.toBe(afterComment);
    expect(await ctag()).toBe(afterRemove);
    // The other interpretation: likes and comments leave the tag alone.
    await control.call('POST', '/sharedstreams/quirks', { ctagCountsLikes: false });
    const anItem = (await truth()).albums.find((a) => a.albumguid === albumguid)!.items[0]!;
    await mutate({ op: 'comment', albumguid, assetGuid: anItem.assetGuid, who: 'member', text: 'again' });
    expect(await ctag()).toBe(afterRemove);
  });

  it('SA-10: getchanges lists every album without names, then only changed and deleted ones', async () => {
    const all = await post(account('getchanges'), { rootctag: null });
    expect(all.status).toBe(200);
    expect(all.json.rootctag).toEqual(expect.any(String));
    expect(all.json.albums.map((a: Album) => a.albumguid).sort()).toEqual(
      (await albumsOf()).map((a) => a.albumguid).sort(),
    );
    for (const a of all.json.albums) {
      expect(a).toMatchObject({
        albumguid: expect.any(String),
        albumlocation: expect.any(String),
        sharingtype: expect.any(String),
      });
      expect(a).not.toHaveProperty('attributes');
    }
    expect((await post(account('getchanges'), { rootctag: all.json.rootctag })).json.albums).toEqual([]);
    const { albumguid } = await mutate<{ albumguid: string }>({
      op: 'addAlbum',
      name: 'Changes',
      owner: 'owner',
      items: 1,
    });
    const changed = await post(account('getchanges'), { rootctag: all.json.rootctag });
    expect(changed.json.albums.map((a: Album) => a.albumguid)).toEqual([albumguid]);
    await mutate({ op: 'deleteAlbum', albumguid });
    const deleted = await post(account('getchanges'), { rootctag: changed.json.rootctag });
    expect(deleted.json.albums).toEqual([{ albumguid, delete: '1' }]);
  });

  it('SA-11: webgetalbumview answers callerId and the albums; more than 15 GUIDs answer 400', async () => {
    const albums = await albumsOf();
    const r = await post(account('webgetalbumview'), {
      albumguids: albums.slice(0, 2).map((a) => a.albumguid),
    });
    expect(r.status).toBe(200);
    expect(r.json.callerId).toBe(owner.dsid);
    expect(r.json.albums.map((a: Album) => a.attributes.name)).toEqual(
      albums.slice(0, 2).map((a) => a.attributes.name),
    );
    const many = Array.from({ length: 16 }, (_, i) => albums[i % albums.length]!.albumguid);
    expect((await post(account('webgetalbumview'), { albumguids: many })).status).toBe(400);
  });
});

describe('legacy shared albums: items', () => {
  it('SA-12: webgetassetcount answers the item count as an integer', async () => {
    const family = await albumNamed('Family 2026');
    const r = await post(`${family.albumlocation}webgetassetcount`, { albumguid: family.albumguid });
    const expected = (await truth()).albums.find((a) => a.albumguid === family.albumguid)!.items.length;
    expect(r.json).toEqual({ albumassetcount: expected });
  });

  it('SA-13: webgetassets reads [offset, limit) as an item range; strings or numbers; empty past the end', async () => {
    const family = await albumNamed('Family 2026');
    const count = (await truth()).albums.find((a) => a.albumguid === family.albumguid)!.items.length;
    const page = (await assets(family, 2, 5)).json.records as CkRecord[];
    expect(items(page, 'CPLAsset')).toHaveLength(3);
    expect(items(page, 'CPLMaster')).toHaveLength(3);
    const numeric = await post(`${family.albumlocation}webgetassets`, {
      albumguid: family.albumguid,
      offset: 2,
      limit: 5,
    });
    expect(items(numeric.json.records, 'CPLAsset').map((r: CkRecord) => r.recordName)).toEqual(
      items(page, 'CPLAsset').map((r) => r.recordName),
    );
    const tail = (await assets(family, count - 1, count + 50)).json.records as CkRecord[];
    expect(items(tail, 'CPLAsset')).toHaveLength(1);
    expect((await assets(family, count, count + 10)).json).toEqual({ records: [] });
    // Paging by ranges reaches every item exactly once.
    const seen = new Set<string>();
    for (let offset = 0; offset < count; offset += 4) {
      for (const r of items(
        (await assets(family, offset, Math.min(offset + 4, count))).json.records,
        'CPLAsset',
      ))
        seen.add(r.recordName);
    }
    expect(seen.size).toBe(count);
  });

  it('SA-14: a constant limit (offset=limit) answers nothing', async () => {
    const family = await albumNamed('Family 2026');
    expect((await assets(family, 3, 3)).json).toEqual({ records: [] });
    expect((await assets(family, 5, 3)).json).toEqual({ records: [] });
  });

  it('SA-15: each item is one CPLMaster and one CPLAsset joined by masterRef', async () => {
    const family = await albumNamed('Family 2026');
    const records = (await assets(family, 0, 100)).json.records as CkRecord[];
    const masters = new Set(items(records, 'CPLMaster').map((r) => r.recordName));
    for (const a of items(records, 'CPLAsset')) {
      expect(masters.has((a.fields['masterRef']!.value as { recordName: string }).recordName)).toBe(true);
    }
    expect(masters.size).toBe(items(records, 'CPLAsset').length);
  });

  it('SA-16: resOriginalRes.size is 0, the size is in resOriginalFileSize; no assetDate', async () => {
    const family = await albumNamed('Family 2026');
    const records = (await assets(family, 0, 100)).json.records as CkRecord[];
    for (const m of items(records, 'CPLMaster')) {
      expect((m.fields['resOriginalRes']!.value as { size: number }).size).toBe(0);
      expect(m.fields['resOriginalFileSize']!.value).toBeGreaterThan(0);
      expect(m.fields['originalCreationDate']!.value).toEqual(expect.any(Number));
      expect(Buffer.from(m.fields['filenameEnc']!.value as string, 'base64').toString()).toMatch(
        /^IMG_\d{4}\.(JPG|MP4)$/,
      );
    }
    for (const a of items(records, 'CPLAsset')) expect(a.fields).not.toHaveProperty('assetDate');
  });

  it('SA-17: photos at most 2,048 px (panoramas 5,400 px wide), videos 720p mp4 with duration and renditions', async () => {
    const t = await truth();
    const all = t.albums.flatMap((a) => a.items);
    expect(new Set(all.map((i) => i.kind))).toEqual(new Set(['photo', 'video', 'panorama']));
    for (const item of all) {
      const copy = item.renditions.find((r) => r.field === 'resOriginal')!;
      if (item.kind === 'photo') expect(Math.max(copy.width, copy.height)).toBeLessThanOrEqual(2048);
      if (item.kind === 'panorama') expect(copy.width).toBeLessThanOrEqual(5400);
      if (item.kind === 'video') {
        expect(Math.min(copy.width, copy.height)).toBeLessThanOrEqual(720);
        expect(copy.uti).toBe('public.mpeg-4');
      }
      expect(copy.width * copy.height).toBeLessThan(item.original.width * item.original.height);
    }
    const album = (await albumsOf()).find((a) =>
      t.albums.find((x) => x.albumguid === a.albumguid)?.items.some((i) => i.kind === 'video'),
    )!;
    const records = (await assets(album, 0, 100)).json.records as CkRecord[];
    const video = items(records, 'CPLMaster').find(
      (m) => m.fields['resOriginalFileType']!.value === 'public.mpeg-4',
    )!;
    expect(video.fields).toHaveProperty('resVidMedRes');
    expect(video.fields).toHaveProperty('resVidSmallRes');
    expect(video.fields['resOriginalHeight']!.value as number).toBeLessThanOrEqual(720);
    const asset = items(records, 'CPLAsset').find(
      (a) => (a.fields['masterRef']!.value as { recordName: string }).recordName === video.recordName,
    )!;
    expect(asset.fields['duration']!.value).toEqual(expect.any(Number));
  });

  it('SA-18: every CPLAsset has likeCount, likedByCaller and a named contributor', async () => {
    const family = await albumNamed('Family 2026');
    const records = items((await assets(family, 0, 100)).json.records, 'CPLAsset');
    const names = new Set((await truth()).people.map((p) => p.dsid));
    for (const a of records) {
      expect(a.pluginFields?.['likeCount']?.value).toEqual(expect.any(Number));
      expect(a.pluginFields?.['likedByCaller']?.value).toEqual(expect.any(Boolean));
      expect(names.has(a.fields['contributedBy']!.value as string)).toBe(true);
      expect(a.fields['contributorFullName']!.value).toMatch(/^\S+ \S+$/);
    }
    expect(records.some((a) => (a.pluginFields!['likeCount']!.value as number) > 0)).toBe(true);
    const asMember = items((await assets(family, 0, 100, member)).json.records, 'CPLAsset');
    expect(asMember.some((a) => a.pluginFields!['likedByCaller']!.value === true)).toBe(true);
  });

  it('SA-19: an album at the 5,000-item cap can be generated and paged; the cap holds', async () => {
    const { albumguid } = await mutate<{ albumguid: string }>({ op: 'addAlbum', name: 'Scale', items: 5000 });
    const album = (await albumsOf()).find((a) => a.albumguid === albumguid)!;
    expect((await post(`${album.albumlocation}webgetassetcount`, { albumguid })).json.albumassetcount).toBe(
      5000,
    );
    expect(items((await assets(album, 4900, 5000)).json.records, 'CPLAsset')).toHaveLength(100);
    await expect(mutate({ op: 'addItems', albumguid, count: 1 })).rejects.toThrow(/at most 5000/);
    await mutate({ op: 'deleteAlbum', albumguid });
  });

  it('SA-19: 200 owned and 200 subscribed albums can be generated', async () => {
    const created: string[] = [];
    const before = (await albumsOf()).length;
    for (let i = 0; i < 200; i += 1) {
      created.push((await mutate<{ albumguid: string }>({ op: 'addAlbum', name: `Owned ${i}` })).albumguid);
      created.push(
        (
          await mutate<{ albumguid: string }>({
            op: 'addAlbum',
            name: `Joined ${i}`,
            owner: 'grandma',
            subscribers: ['owner'],
          })
        ).albumguid,
      );
    }
    const albums = await albumsOf();
    expect(albums.length).toBe(before + 400);
    for (const guid of created) await mutate({ op: 'deleteAlbum', albumguid: guid });
    expect((await albumsOf()).length).toBe(before);
  });

  it('SA-20: a deleted album or one the subscriber left answers 404 and leaves the list at once', async () => {
    const { albumguid } = await mutate<{ albumguid: string }>({
      op: 'addAlbum',
      name: 'Leaving',
      owner: 'member',
      subscribers: ['owner'],
      items: 2,
    });
    const album = (await albumsOf()).find((a) => a.albumguid === albumguid)!;
    expect(album.sharingtype).toBe('subscribed');
    expect((await assets(album, 0, 2)).status).toBe(200);
    await mutate({ op: 'leave', albumguid, who: 'owner' });
    expect((await albumsOf()).map((a) => a.albumguid)).not.toContain(albumguid);
    expect((await assets(album, 0, 2)).status).toBe(404);
    // The owner (the member account) still has it until deleting it.
    const asOwner = (await albumsOf(member)).find((a) => a.albumguid === albumguid)!;
    expect(asOwner.sharingtype).toBe('owned');
    await mutate({ op: 'deleteAlbum', albumguid });
    expect((await albumsOf(member)).map((a) => a.albumguid)).not.toContain(albumguid);
    expect((await assets(asOwner, 0, 2, member)).status).toBe(404);
    expect(
      (
        await post(`${album.albumlocation}webgetassetcount`, {
          albumguid: '00000000-0000-4000-8000-000000000000',
        })
      ).status,
    ).toBe(404);
  });

  it('SA-21: a stale albumctag is accepted by default; a switch makes it fail with 409', async () => {
    const family = await albumNamed('Family 2026');
    const stale = { ...family, albumctag: 'FT;1;1' };
    expect((await assets(stale, 0, 2)).status).toBe(200);
    await control.call('POST', '/sharedstreams/quirks', { staleCtag: 'reject' });
    expect((await assets(stale, 0, 2)).status).toBe(409);
    expect((await assets(family, 0, 2)).status).toBe(200);
  });
});

describe('legacy shared albums: downloads and comments', () => {
  const firstMaster = async () => {
    const garden = await albumNamed('Garden');
    const records = (await assets(garden, 0, 100)).json.records as CkRecord[];
    return items(records, 'CPLMaster').find((m) => m.fields['resOriginalFileType']!.value === 'public.jpeg')!;
  };
  const download = (url: string, headers: Record<string, string> = {}) =>
    fetch(toSimulatorUrl(url.replace(FILE_SLOT, 'x.jpg'), sim.baseUrl), { headers });

  it('SA-22: download URLs point at the CDN, carry an expiry and answer 410 after it', async () => {
    const master = await firstMaster();
    const url = (master.fields['resOriginalRes']!.value as { downloadURL: string }).downloadURL;
    expect(new URL(url.replace(FILE_SLOT, 'f')).hostname).toMatch(/\.icloud-content\.com$/);
    const e = Number(new URL(url.replace(FILE_SLOT, 'f')).searchParams.get('e'));
    expect(e * 1000 - (await control.clock()).now).toBeGreaterThan(3_500_000);
    expect((await download(url)).status).toBe(200);
    await control.advanceClock({ advanceMs: 3_601_000 });
    expect((await download(url)).status).toBe(410);
  });

  it('SA-23: webgetassets again gives fresh URLs for the same records and checksums', async () => {
    const a = await firstMaster();
    await control.advanceClock({ advanceMs: 2000 });
    const b = await firstMaster();
    const res = (m: CkRecord) =>
      m.fields['resOriginalRes']!.value as { downloadURL: string; fileChecksum: string };
    expect(b.recordName).toBe(a.recordName);
    expect(res(b).fileChecksum).toBe(res(a).fileChecksum);
    expect(res(b).downloadURL).not.toBe(res(a).downloadURL);
  });

  it('SA-24: the CDN body is resOriginalFileSize bytes of the reduced copy; Range works', async () => {
    const master = await firstMaster();
    const url = (master.fields['resOriginalRes']!.value as { downloadURL: string }).downloadURL;
    const size = master.fields['resOriginalFileSize']!.value as number;
    const body = Buffer.from(await (await download(url)).arrayBuffer());
    expect(body.length).toBe(size);
    expect(body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const part = await download(url, { Range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(body.subarray(10, 20));
  });

  it('SA-24: webasseturls resolves asset GUIDs to url_location + url_path by checksum', async () => {
    const garden = await albumNamed('Garden');
    const asset = items((await assets(garden, 0, 1)).json.records, 'CPLAsset')[0]!;
    const r = await post(`${garden.albumlocation}webasseturls`, {
      albumguid: garden.albumguid,
      photoGuids: [asset.recordName],
    });
    expect(r.status).toBe(200);
    const entries = Object.values(r.json.items) as {
      url_location: string;
      url_path: string;
      url_expiry: string;
    }[];
    expect(entries.length).toBeGreaterThanOrEqual(3);
    expect(r.json.locations[entries[0]!.url_location]).toEqual({
      scheme: 'https',
      hosts: [entries[0]!.url_location],
    });
    expect((await download(`https://${entries[0]!.url_location}${entries[0]!.url_path}`)).status).toBe(200);
    expect(Date.parse(entries[0]!.url_expiry)).toBeGreaterThan((await control.clock()).now);
  });

  it('SA-25: getcomments lists comments and likes (type "1"); an unknown asset has none', async () => {
    const family = await albumNamed('Family 2026');
    const t = (await truth()).albums.find((a) => a.albumguid === family.albumguid)!;
    const r = await post(`${family.albumlocation}getcomments`, {
      albumguid: family.albumguid,
      assetguid: t.items[0]!.assetGuid,
    });
    expect(
      r.json.comments.filter((c: { commenttype: string }) => c.commenttype === '1').length,
    ).toBeGreaterThan(0);
    for (const c of r.json.comments)
      expect(c).toMatchObject({
        fullname: expect.stringMatching(/\S+ \S+/),
        createdbyme: expect.stringMatching(/^[01]$/),
      });
    const text = await post(`${family.albumlocation}getcomments`, {
      albumguid: family.albumguid,
      assetguid: t.items[1]!.assetGuid,
    });
    expect(
      text.json.comments.some(
        (c: { commenttype: string; comment: string }) => c.commenttype === '0' && c.comment.length > 0,
      ),
    ).toBe(true);
    expect(
      (await post(`${family.albumlocation}getcomments`, { albumguid: family.albumguid, assetguid: 'nope' }))
        .json,
    ).toEqual({ comments: [] });
  });

  it('sharedstreams endpoints take faults by their stats key', async () => {
    const family = await albumNamed('Family 2026');
    await control.injectFault({
      endpoint: 'sharedstreams/webgetassets',
      status: 503,
      retryAfter: 5,
      count: 1,
    });
    try {
      const failed = await assets(family, 0, 1);
      expect(failed.status).toBe(503);
      expect(failed.headers.get('retry-after')).toBe('5');
      expect((await assets(family, 0, 1)).status).toBe(200);
    } finally {
      await control.clearFaults();
    }
  });

  it('SA-26: management endpoints answer 403 and are counted', async () => {
    await control.resetStats();
    const family = await albumNamed('Family 2026');
    expect((await post(account('createalbum'), { attributes: { name: 'x' } })).status).toBe(403);
    expect((await post(account('webgetpendingalbums'), {})).status).toBe(403);
    expect((await post(`${family.albumlocation}deleteassets`, { albumguid: family.albumguid })).status).toBe(
      403,
    );
    const stats = await control.stats();
    expect(stats.requests['sharedstreams/createalbum']).toBe(1);
    expect(stats.requests['sharedstreams/deleteassets']).toBe(1);
  });
});
