import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '#simulator/src/clock.ts';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';

type CkRecord = {
  recordName: string;
  recordType: string | null;
  deleted: boolean;
  recordChangeTag: string;
  fields?: Record<string, { value?: unknown }>;
};
type ZonePage = {
  zoneID: { zoneName: string };
  syncToken?: string;
  moreComing?: boolean | null;
  records?: CkRecord[];
  serverErrorCode?: string;
  reason?: string;
};

async function zonePage(
  ck: InProcessCloudKit,
  entry: Record<string, unknown>,
  top: Record<string, unknown> = {},
) {
  const { json } = await ck.call<{ zones: ZonePage[] }>('changes/zone', { zones: [entry], ...top });
  return json.zones[0]!;
}

/** Pages `changes/zone` from `token` (omitted = full history) until moreComing is false. */
async function drain(ck: InProcessCloudKit, token?: string, limit = 200) {
  const pages: ZonePage[] = [];
  let next = token;
  for (let i = 0; i < 10_000; i += 1) {
    const page = await zonePage(ck, {
      zoneID: { zoneName: 'PrimarySync' },
      resultsLimit: limit,
      ...(next !== undefined ? { syncToken: next } : {}),
    });
    pages.push(page);
    next = page.syncToken;
    if (!page.moreComing) break;
  }
  return { pages, records: pages.flatMap((p) => p.records ?? []), token: next! };
}

async function caughtUpToken(ck: InProcessCloudKit): Promise<string> {
  return (await drain(ck)).token;
}

async function firstAsset(ck: InProcessCloudKit, index = 0) {
  const truth = await ck.library.groundTruth({ sha256: false });
  return truth.assets.filter((a) => a.zone === 'PrimarySync' && !a.isDeleted && !a.isHidden)[index]!;
}

describe('changes/database and changes/zone (S73-S89)', () => {
  let ck: InProcessCloudKit;

  beforeAll(async () => {
    ck = await openInProcessCloudKit({ seed: 11, assets: 60 });
  });

  it('S73: changes/database without a token lists every zone with its token, and with a fresh DB token none', async () => {
    const first = await ck.call<{
      syncToken: string;
      zones: { zoneID: { zoneName: string }; syncToken: string }[];
    }>('changes/database', {});
    expect(first.json.zones.map((z) => z.zoneID.zoneName)).toEqual(['PrimarySync', ck.family.sharedZoneName]);
    expect(first.json.zones.every((z) => z.syncToken.startsWith('AQAAAAAA'))).toBe(true);
    const again = await ck.call<{ zones: unknown[] }>('changes/database', {
      syncToken: first.json.syncToken,
    });
    expect(again.json.zones).toEqual([]);
  });

  it('S73: changes/database with a DB token reports only the zones that changed since', async () => {
    const before = await ck.call<{ syncToken: string }>('changes/database', {});
    await ck.library.mutate({ op: 'favorite', assetRecordName: (await firstAsset(ck, 3)).assetRecordName });
    const after = await ck.call<{ zones: { zoneID: { zoneName: string } }[] }>('changes/database', {
      syncToken: before.json.syncToken,
    });
    expect(after.json.zones.map((z) => z.zoneID.zoneName)).toEqual(['PrimarySync']);
  });

  it('S74: two changes/database calls without changes return different DB tokens that both report no change', async () => {
    const a = await ck.call<{ syncToken: string }>('changes/database', {});
    const b = await ck.call<{ syncToken: string }>('changes/database', {});
    expect(a.json.syncToken).not.toBe(b.json.syncToken);
    const fromA = await ck.call<{ zones: unknown[] }>('changes/database', { syncToken: a.json.syncToken });
    expect(fromA.json.zones).toEqual([]);
  });

  it('S75: resultsLimit is honoured inside the zone entry and at the top level', async () => {
    const inside = await zonePage(ck, { zoneID: { zoneName: 'PrimarySync' }, resultsLimit: 3 });
    const top = await zonePage(ck, { zoneID: { zoneName: 'PrimarySync' } }, { resultsLimit: 3 });
    expect(inside.records).toHaveLength(3);
    expect(top.records).toHaveLength(3);
  });

  it('S76: an omitted syncToken enumerates the full history, tombstones included', async () => {
    const { records } = await drain(ck);
    const truth = await ck.library.groundTruth({ sha256: false });
    const names = new Set(records.map((r) => r.recordName));
    for (const asset of truth.assets.filter((a) => a.zone === 'PrimarySync')) {
      expect(names.has(asset.assetRecordName)).toBe(true);
      expect(names.has(asset.masterRecordName)).toBe(true);
    }
    expect(records.some((r) => r.deleted && r.recordType === null)).toBe(true);
  });

  it('S76: an empty-string syncToken is caught up: no records, moreComing false, the current token', async () => {
    const current = await caughtUpToken(ck);
    const page = await zonePage(ck, { zoneID: { zoneName: 'PrimarySync' }, syncToken: '' });
    expect(page.records).toEqual([]);
    expect(page.moreComing).toBe(false);
    expect(page.syncToken).toBe(current);
  });

  it('S77: every page holds at most min(resultsLimit, 200) records and a new token', async () => {
    const big = await drain(ck, undefined, 500);
    expect(big.pages.every((p) => (p.records?.length ?? 0) <= 200)).toBe(true);
    const small = await drain(ck, undefined, 7);
    expect(small.pages.every((p) => (p.records?.length ?? 0) <= 7)).toBe(true);
    const tokens = small.pages.map((p) => p.syncToken);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('S78: a record changed many times leaves empty pages with moreComing true over its superseded entries', async () => {
    const start = await caughtUpToken(ck);
    const name = (await firstAsset(ck, 5)).assetRecordName;
    for (let i = 0; i < 250; i += 1) {
      await ck.library.mutate({ op: i % 2 === 0 ? 'favorite' : 'unfavorite', assetRecordName: name });
    }
    const { pages } = await drain(ck, start);
    expect(pages.some((p) => p.records?.length === 0 && p.moreComing === true)).toBe(true);
  });

  it('S79: a record appears once per delta with its current state, a created-then-purged one as a tombstone only', async () => {
    const start = await caughtUpToken(ck);
    const added = await ck.library.mutate({ op: 'add', kind: 'photo' });
    const name = added.assets[0]!.assetRecordName;
    await ck.library.mutate({ op: 'favorite', assetRecordName: name });
    await ck.library.mutate({ op: 'purge', assetRecordName: name });
    const { records } = await drain(ck, start);
    const mine = records.filter((r) => r.recordName === name);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ recordType: null, deleted: true });
    const counts = new Map<string, number>();
    for (const r of records) counts.set(r.recordName, (counts.get(r.recordName) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('S80: record types come interleaved in log order and a pair can straddle a page boundary', async () => {
    const { pages } = await drain(ck, undefined, 3);
    const types = pages.flatMap((p) => (p.records ?? []).map((r) => r.recordType));
    expect(new Set(types)).toEqual(
      new Set(['CPLMaster', 'CPLAsset', null, 'CPLContainerRelation', 'CPLAlbum', 'CPLLibraryInfo']),
    );
    const straddles = pages.some((p, i) => {
      const last = p.records?.at(-1);
      const next = pages[i + 1]?.records?.[0];
      return last?.recordType === 'CPLMaster' && next?.recordType === 'CPLAsset';
    });
    expect(straddles).toBe(true);
  });

  it('S81: desiredRecordTypes is ignored on changes/zone while desiredKeys is honoured', async () => {
    const page = await zonePage(ck, {
      zoneID: { zoneName: 'PrimarySync' },
      resultsLimit: 50,
      desiredRecordTypes: ['CPLAsset'],
      desiredKeys: ['isFavorite'],
    });
    const records = page.records ?? [];
    expect(records.some((r) => r.recordType === 'CPLMaster')).toBe(true);
    const asset = records.find((r) => r.recordType === 'CPLAsset')!;
    expect(Object.keys(asset.fields ?? {})).toEqual(['isFavorite']);
  });

  it('S82: replaying a caught-up token returns no records, moreComing false and the same token', async () => {
    const token = await caughtUpToken(ck);
    const page = await zonePage(ck, { zoneID: { zoneName: 'PrimarySync' }, syncToken: token });
    expect(page).toMatchObject({ records: [], moreComing: false, syncToken: token });
  });

  it('S83: the same token yields the same page and next token, also for parallel requests', async () => {
    const first = await zonePage(ck, { zoneID: { zoneName: 'PrimarySync' }, resultsLimit: 20 });
    const entry = { zoneID: { zoneName: 'PrimarySync' }, resultsLimit: 20, syncToken: first.syncToken };
    const [a, b] = await Promise.all([zonePage(ck, entry), zonePage(ck, entry)]);
    const strip = (p: ZonePage) => ({ ...p, records: p.records?.map((r) => ({ ...r, fields: undefined })) });
    expect(strip(a)).toEqual(strip(b));
    expect(a.syncToken).toBe(b.syncToken);
  });

  it('S85: the syncToken of records/query equals the caught-up changes/zone token on every page', async () => {
    const token = await caughtUpToken(ck);
    const query = (startRank: number) =>
      ck.call<{ syncToken: string }>('records/query', {
        query: {
          recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted',
          filterBy: [
            { fieldName: 'startRank', comparator: 'EQUALS', fieldValue: { type: 'INT64', value: startRank } },
          ],
        },
        resultsLimit: 10,
        zoneID: { zoneName: 'PrimarySync' },
      });
    expect((await query(0)).json.syncToken).toBe(token);
    expect((await query(5)).json.syncToken).toBe(token);
  });

  it('S86: garbage, truncated and database tokens and unknown zones give HTTP 200 zone-level errors', async () => {
    const token = await caughtUpToken(ck);
    const db = (await ck.call<{ syncToken: string }>('changes/database', {})).json.syncToken;
    const ask = (syncToken: string, zoneName = 'PrimarySync') =>
      ck.call<{ zones: ZonePage[] }>('changes/zone', { zones: [{ zoneID: { zoneName }, syncToken }] });
    const garbage = await ask(Buffer.from('definitely not a token at all').toString('base64'));
    expect(garbage.status).toBe(200);
    expect(garbage.json.zones[0]).toMatchObject({
      serverErrorCode: 'BAD_REQUEST',
      reason: 'Unknown sync continuation type',
    });
    const truncated = await ask(token.slice(0, 30));
    expect(truncated.json.zones[0]).toMatchObject({
      serverErrorCode: 'BAD_REQUEST',
      reason: 'Invalid continuation format',
    });
    expect((await ask(db)).json.zones[0]!.serverErrorCode).toBe('BAD_REQUEST');
    const unknown = await ask(token, 'NoSuchZone');
    expect(unknown.status).toBe(200);
    expect(unknown.json.zones[0]!.serverErrorCode).toBe('ZONE_NOT_FOUND');
    expect((await ask(token, 'SharedSync')).json.zones[0]!.serverErrorCode).toBe('ZONE_NOT_FOUND');
  });

  it('S87: a token marked expired by the quirk switch is answered BAD_REQUEST', async () => {
    const token = await caughtUpToken(ck);
    ck.library.quirks = { ...ck.library.quirks, expiredTokens: [token] };
    const page = await zonePage(ck, { zoneID: { zoneName: 'PrimarySync' }, syncToken: token });
    ck.library.quirks = { ...ck.library.quirks, expiredTokens: [] };
    expect(page.serverErrorCode).toBe('BAD_REQUEST');
  });

  it('S87: a database token marked expired is answered 400 BAD_REQUEST by changes/database, as one it cannot read', async () => {
    const { json: fresh } = await ck.call<{ syncToken: string }>('changes/database', {});
    ck.library.quirks = { ...ck.library.quirks, expiredTokens: [fresh.syncToken] };
    const refused = await ck.call<{ serverErrorCode: string }>('changes/database', {
      syncToken: fresh.syncToken,
    });
    ck.library.quirks = { ...ck.library.quirks, expiredTokens: [] };
    const unreadable = await ck.call<{ serverErrorCode: string }>('changes/database', {
      syncToken: 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    expect([refused.status, refused.json.serverErrorCode]).toEqual([400, 'BAD_REQUEST']);
    expect([unreadable.status, unreadable.json.serverErrorCode]).toEqual([400, 'BAD_REQUEST']);
    const tokenless = await ck.call<{ zones: unknown[] }>('changes/database', {});
    expect(tokenless.status).toBe(200);
  });

  it('S88: tombstones are exactly {recordName, recordType: null, deleted: true, recordChangeTag}', async () => {
    const { records } = await drain(ck);
    const tombstone = records.find((r) => r.deleted)!;
    expect(Object.keys(tombstone).sort()).toEqual(['deleted', 'recordChangeTag', 'recordName', 'recordType']);
    expect(tombstone.recordType).toBeNull();
    expect(typeof tombstone.recordChangeTag).toBe('string');
  });

  it('S89: the moreComing-null quirk serves moreComing as null', async () => {
    ck.library.quirks = { ...ck.library.quirks, moreComingNull: true };
    const page = await zonePage(ck, { zoneID: { zoneName: 'PrimarySync' }, resultsLimit: 5 });
    ck.library.quirks = { ...ck.library.quirks, moreComingNull: false };
    expect(page.moreComing).toBeNull();
  });
});

describe('token persistence (S84)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-library-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('S84: tokens issued before a restart keep working and mean the same position after it', async () => {
    const clock = createClock();
    const first = await openInProcessCloudKit({ seed: 5, assets: 30, stateDir: dir, clock });
    const truth = await first.library.groundTruth({ sha256: false });
    const name = truth.assets.find((a) => a.zone === 'PrimarySync' && !a.isDeleted)!.assetRecordName;
    const before = await caughtUpToken(first);
    await first.library.mutate({ op: 'hide', assetRecordName: name });
    const after = await caughtUpToken(first);
    await first.library.close();

    const second = await openInProcessCloudKit({ seed: 5, assets: 30, stateDir: dir, clock });
    expect(await caughtUpToken(second)).toBe(after);
    const delta = await drain(second, before);
    expect(delta.records.map((r) => r.recordName)).toContain(name);
    expect(delta.token).toBe(after);
  });
});
