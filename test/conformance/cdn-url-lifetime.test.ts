/**
 * S144 in docs/protocol/simulator-contract.md#zones-records-downloads-2026 over HTTP: a download URL is valid until its `e` parameter (issue time + 3600 s by
 * default, as recorded), then 410 Gone; `/cdn/quirks` can shorten the lifetime; a refresh goes
 * through records/lookup while records/query on CPLMaster keeps failing (S64).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import {
  type ControlClient,
  controlClient,
  type SimSession,
  startTestSimulator,
} from '#test/helpers/simulator.ts';

/** The literal `${f}` file-name slot of Apple's download URLs. */
const F_SLOT = '$' + '{f}';

type CkRecord = { recordName: string; fields?: Record<string, { value?: unknown }> };

describe('download URL lifetime (S144)', () => {
  let sim: SimulatorHandle;
  let control: ControlClient;
  let session: SimSession;
  /** The cookie header, following each rotated X-APPLE-WEBAUTH-TOKEN as a browser would. */
  let cookie: string;

  beforeAll(async () => {
    sim = await startTestSimulator({ assets: 6, seed: 144 });
    control = controlClient(sim);
    session = await control.session();
    cookie = session.cookie;
  });

  afterAll(async () => {
    await sim.stop();
  });

  const ck = async (operation: string, body: unknown) => {
    const url = `${session.ckdatabasewsUrl}/database/1/com.apple.photos.cloud/production/private/${operation}`;
    const res = await fetch(toSimulatorUrl(url, sim.baseUrl), {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'text/plain', Origin: 'https://www.icloud.com' },
      body: JSON.stringify(body),
    });
    const rotated = res.headers.getSetCookie().find((c) => c.startsWith('X-APPLE-WEBAUTH-TOKEN='));
    if (rotated) {
      const pair = rotated.split(';')[0]!;
      cookie = cookie
        .split('; ')
        .map((c) => (c.startsWith('X-APPLE-WEBAUTH-TOKEN=') ? pair : c))
        .join('; ');
    }
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  const freshMaster = async () => {
    const page = await ck('records/query', {
      query: { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' },
      zoneID: { zoneName: 'PrimarySync' },
      resultsLimit: 2,
    });
    return (page.json.records as CkRecord[])[0]!.recordName;
  };

  const lookupUrl = async (recordName: string) => {
    const reply = await ck('records/lookup', {
      records: [{ recordName }],
      desiredKeys: ['resOriginalRes'],
      zoneID: { zoneName: 'PrimarySync' },
    });
    expect(reply.status).toBe(200);
    const record = (reply.json.records as CkRecord[])[0]!;
    return (record.fields!.resOriginalRes!.value as { downloadURL: string }).downloadURL;
  };

  const download = async (url: string) => {
    const res = await fetch(toSimulatorUrl(url.replace(F_SLOT, 'x.jpg'), sim.baseUrl));
    await res.arrayBuffer();
    return res.status;
  };

  const expiry = (url: string) => Number(new URL(url.replace(F_SLOT, 'x')).searchParams.get('e'));

  it('S144: a URL carries e = issue time + 3600 s and answers 200 until then, 410 after', async () => {
    const name = await freshMaster();
    const issuedAt = Math.floor((await control.clock()).now / 1000);
    const url = await lookupUrl(name);
    expect(expiry(url) - issuedAt).toBeGreaterThanOrEqual(3599);
    expect(expiry(url) - issuedAt).toBeLessThanOrEqual(3601);
    await control.advanceClock({ advanceMs: 59 * 60_000 });
    expect(await download(url)).toBe(200);
    await control.advanceClock({ advanceMs: 2 * 60_000 });
    expect(await download(url)).toBe(410);
    // The refresh: records/lookup mints a new URL that works.
    const fresh = await lookupUrl(name);
    expect(fresh).not.toBe(url);
    expect(await download(fresh)).toBe(200);
  });

  it('S144: the control API shortens the lifetime of URLs minted from then on', async () => {
    const quirks = await control.call<{ urlLifetimeSeconds: number }>('POST', '/cdn/quirks', {
      urlLifetimeSeconds: 1800,
    });
    expect(quirks.urlLifetimeSeconds).toBe(1800);
    try {
      const name = await freshMaster();
      const issuedAt = Math.floor((await control.clock()).now / 1000);
      const url = await lookupUrl(name);
      expect(expiry(url) - issuedAt).toBeGreaterThanOrEqual(1799);
      expect(expiry(url) - issuedAt).toBeLessThanOrEqual(1801);
      await control.advanceClock({ advanceMs: 29 * 60_000 });
      expect(await download(url)).toBe(200);
      await control.advanceClock({ advanceMs: 2 * 60_000 });
      expect(await download(url)).toBe(410);
    } finally {
      await control.call('POST', '/cdn/quirks', { urlLifetimeSeconds: 3600 });
    }
  });

  it('S144: records/query on CPLMaster keeps failing with "Type is not marked indexable"', async () => {
    const reply = await ck('records/query', {
      query: { recordType: 'CPLMaster' },
      zoneID: { zoneName: 'PrimarySync' },
    });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({
      serverErrorCode: 'BAD_REQUEST',
      reason: 'Type is not marked indexable: CPLMaster',
    });
  });

  it('S145: the control API turns on the zone and record switches of S139-S143', async () => {
    const patch = {
      cmmZones: ['private', 'shared'],
      sharedCollectionZone: true,
      migratedPrimaryZone: true,
      zoneFetchError: true,
      booleanEncoding: [{ recordType: 'CPLAlbum', encoding: 'boolean' }],
      lookupErrors: ['AWrJ2mlXB9r5r6h+FbiuIUivLq7g'],
    };
    try {
      expect(await control.quirks(patch)).toMatchObject(patch);
      const listed = await ck('zones/list', {});
      const names = (listed.json.zones as { zoneID: { zoneName: string } }[]).map((z) => z.zoneID.zoneName);
      expect(names).toContain('PrimarySync1');
      expect(names.some((n) => n.startsWith('CMM-'))).toBe(true);
      expect(names.some((n) => n.startsWith('SharedCollection-'))).toBe(true);
      await expect(
        control.quirks({ booleanEncoding: [{ recordType: 'CPLAlbum', encoding: 'yes' }] }),
      ).rejects.toThrow(/400/);
    } finally {
      await control.quirks({ reset: true });
    }
  });
});
