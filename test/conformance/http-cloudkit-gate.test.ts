import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import type { ControlClient, SimSession } from '#test/helpers/simulator.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

/** The literal `${f}` file-name slot of Apple's download URLs. */
const F_SLOT = ['$', '{f}'].join('');

let sim: SimulatorHandle;
let control: ControlClient;

beforeAll(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
});
afterAll(() => sim.stop());
beforeEach(() => control.clearFaults());

const QUERY = {
  query: { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' },
  zoneID: { zoneName: 'PrimarySync' },
  resultsLimit: 2,
};

function query(session: SimSession, cookie = session.cookie) {
  const base = toSimulatorUrl(session.ckdatabasewsUrl, sim.baseUrl).replace(/\/$/, '');
  return fetch(
    `${base}/database/1/com.apple.photos.cloud/production/private/records/query?dsid=${session.dsid}`,
    {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'text/plain' },
      body: JSON.stringify(QUERY),
    },
  );
}

const withToken = (cookie: string, token: string) =>
  cookie
    .split('; ')
    .map((c) => (c.startsWith('X-APPLE-WEBAUTH-TOKEN=') ? `X-APPLE-WEBAUTH-TOKEN=${token}` : c))
    .join('; ');
const rotatedToken = (res: Response) =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith('X-APPLE-WEBAUTH-TOKEN='))!
    .split(';')[0]!
    .slice('X-APPLE-WEBAUTH-TOKEN='.length);

async function downloadUrl(session: SimSession): Promise<string> {
  const body = (await (await query(session)).json()) as {
    records: { recordType: string; fields: Record<string, { value?: { downloadURL?: string } }> }[];
  };
  const master = body.records.find((r) => r.recordType === 'CPLMaster')!;
  return toSimulatorUrl(
    master.fields['resOriginalRes']!.value!.downloadURL!.replace(F_SLOT, 'IMG.JPG'),
    sim.baseUrl,
  );
}

describe('S41-S50 CloudKit common behaviour (server part)', () => {
  it('S43: every CloudKit response sets a rotated X-APPLE-WEBAUTH-TOKEN on .icloud.com without Expires', async () => {
    const session = await control.session();
    const res = await query(session);
    expect(res.status).toBe(200);
    const line = res.headers.getSetCookie().find((c) => c.startsWith('X-APPLE-WEBAUTH-TOKEN='))!;
    expect(line).toMatch(/;Path=\/;Domain=\.icloud\.com;Secure;HttpOnly$/);
    expect(line).not.toContain('Expires');
    expect(session.cookie).not.toContain(`X-APPLE-WEBAUTH-TOKEN=${rotatedToken(res)}`);
  });

  it('S43: the rotated value works, and the previous one stays valid within the grace period only', async () => {
    const session = await control.session();
    const first = await query(session);
    const next = rotatedToken(first);
    expect((await query(session, withToken(session.cookie, next))).status).toBe(200);
    expect((await query(session)).status).toBe(200);
    await control.advanceClock({ advanceMs: 3_600_001 });
    expect((await query(session)).status).toBe(401);
  });

  it('S44: CloudKit responses carry X-Apple-CloudKit-Version, X-Apple-Request-UUID and x-apple-user-partition', async () => {
    const session = await control.session();
    const res = await query(session);
    expect(res.headers.get('x-apple-cloudkit-version')).toBe('1.0');
    expect(res.headers.get('x-apple-request-uuid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-apple-user-partition')).toBe(
      new URL(session.ckdatabasewsUrl).hostname.match(/^p(\d+)/)![1],
    );
  });

  it('S44: the request UUID of the response goes into the download URLs it mints', async () => {
    const session = await control.session();
    const res = await query(session);
    const uuid = res.headers.get('x-apple-request-uuid')!;
    expect(JSON.stringify(await res.json())).toContain(`r=${uuid}`);
  });

  it('S42: a session expired on the simulated clock answers 401', async () => {
    const session = await control.session();
    await control.advanceClock({ advanceDays: 31 });
    expect((await query(session)).status).toBe(401);
  });

  it('S42: a security-key account whose key challenge was never completed gets 401 no auth method found', async () => {
    await control.setFlags({ fido: true });
    try {
      const session = await control.session();
      const res = await query(session);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('no auth method found');
    } finally {
      await control.setFlags({ fido: false });
    }
  });
});

describe('S117: body faults on streamed CDN bodies', () => {
  it('stats count downloads under cdn and CloudKit calls by operation', async () => {
    const session = await control.session();
    const url = await downloadUrl(session);
    await control.resetStats();
    await query(session);
    await (await fetch(url)).arrayBuffer();
    expect((await control.stats()).requests).toEqual({ 'records/query': 1, cdn: 1 });
  });

  it('truncate-body sends fewer bytes than Content-Length and closes the connection', async () => {
    const url = await downloadUrl(await control.session());
    await control.injectFault({ endpoint: 'cdn', mode: 'truncate-body', afterBytes: 1000, count: 1 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(1000);
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it('reset-mid-body resets the connection in the middle of the body', async () => {
    const url = await downloadUrl(await control.session());
    await control.injectFault({ endpoint: 'cdn', mode: 'reset-mid-body', count: 1 });
    const res = await fetch(url);
    await expect(res.arrayBuffer()).rejects.toThrow();
    expect((await (await fetch(url)).arrayBuffer()).byteLength).toBeGreaterThan(0);
  });

  it('slow-body still delivers every byte of a download', async () => {
    const url = await downloadUrl(await control.session());
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    await control.injectFault({
      endpoint: 'cdn',
      mode: 'slow-body',
      chunkBytes: 8192,
      chunkDelayMs: 5,
      count: 1,
    });
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(whole)).toBe(true);
  });

  it('a fault can target one URL by path', async () => {
    const session = await control.session();
    const url = await downloadUrl(session);
    await control.injectFault({
      endpoint: 'cdn',
      pathContains: new URL(url).pathname.split('/')[3]!,
      status: 429,
      retryAfter: 3,
    });
    const res = await fetch(url);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
  });
});
