import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import type { ControlClient } from '#test/helpers/simulator.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { idmsaHeaders, SignInDriver, TestSrpClient } from '#test/helpers/srp-client.ts';

let sim: SimulatorHandle;
let control: ControlClient;

beforeAll(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
});
afterAll(() => sim.stop());

describe('S1-S6 general HTTP behaviour', () => {
  it('S1: POST bodies are accepted as application/json and as text/plain', async () => {
    for (const type of ['application/json', 'text/plain']) {
      const client = new TestSrpClient(sim.appleId, sim.password);
      const res = await fetch(`${sim.authUrl}/signin/init`, {
        method: 'POST',
        headers: idmsaHeaders({ 'Content-Type': type }),
        body: JSON.stringify({
          a: client.publicValue,
          accountName: sim.appleId,
          protocols: ['s2k', 's2k_fo'],
        }),
      });
      expect(res.status, type).toBe(200);
    }
    const { sessionToken } = await control.session();
    const res = await fetch(`${sim.setupUrl}/accountLogin`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ dsWebAuthToken: sessionToken }),
    });
    expect(res.status).toBe(200);
  });

  it('S2: setup answers application/json; charset=UTF-8 and IdMSA JSON errors application/json', async () => {
    const validate = await fetch(`${sim.setupUrl}/validate`, { method: 'POST', body: 'null' });
    expect(validate.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    const wrong = await new SignInDriver(sim.authUrl, sim.setupUrl).signIn(sim.appleId, 'wrong');
    expect(wrong.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('S3: no particular User-Agent is required', async () => {
    const client = new TestSrpClient(sim.appleId, sim.password);
    const res = await fetch(`${sim.authUrl}/signin/init`, {
      method: 'POST',
      headers: idmsaHeaders({ 'User-Agent': 'curl/8.0' }),
      body: JSON.stringify({ a: client.publicValue, accountName: sim.appleId, protocols: ['s2k'] }),
    });
    expect(res.status).toBe(200);
  });

  it('S3: a fault can reject an allow-listed old User-Agent with 503', async () => {
    await control.injectFault({ endpoint: 'signin/init', userAgentContains: 'Chrome/70', mode: 'srp-503' });
    const client = new TestSrpClient(sim.appleId, sim.password);
    const send = (ua: string) =>
      fetch(`${sim.authUrl}/signin/init`, {
        method: 'POST',
        headers: idmsaHeaders({ 'User-Agent': ua }),
        body: JSON.stringify({ a: client.publicValue, accountName: sim.appleId, protocols: ['s2k'] }),
      });
    expect((await send('Mozilla/5.0 Chrome/70.0 Safari/537.36')).status).toBe(503);
    expect((await send('Mozilla/5.0 Chrome/138.0 Safari/537.36')).status).toBe(200);
    await control.clearFaults();
  });

  it('S4: the optional IdMSA headers are accepted', async () => {
    const client = new TestSrpClient(sim.appleId, sim.password);
    const res = await fetch(`${sim.authUrl}/signin/init`, {
      method: 'POST',
      headers: idmsaHeaders({
        'X-Apple-I-FD-Client-Info': JSON.stringify({ U: 'ua', L: 'en-US', Z: 'GMT+00:00', V: '1.1', F: '' }),
        'X-Apple-Frame-Id': 'auth-123',
        'X-Apple-Auth-Attributes': 'abc',
      }),
      body: JSON.stringify({ a: client.publicValue, accountName: sim.appleId, protocols: ['s2k'] }),
    });
    expect(res.status).toBe(200);
  });

  it('S5: setup cookies carry Domain=.icloud.com and IdMSA cookies apple.com domains', async () => {
    const { cookies } = await control.session();
    expect(cookies.length).toBeGreaterThan(5);
    for (const c of cookies) expect(c).toContain('Domain=.icloud.com');
    const d = new SignInDriver(sim.authUrl, sim.setupUrl);
    await d.signIn(sim.appleId, sim.password);
    await d.requestCode();
    const res = await d.submitCode(await control.code(sim.appleId));
    expect(res.headers.getSetCookie().length).toBeGreaterThan(0);
    for (const c of res.headers.getSetCookie()) expect(c).toContain('Domain=apple.com');
  });

  it('S6: the clock is controllable and drives the Date header', async () => {
    const before = (await control.clock()).now;
    await control.advanceClock({ advanceDays: 2 });
    const after = (await control.clock()).now;
    expect(after - before).toBeGreaterThanOrEqual(2 * 86_400_000);
    const res = await fetch(`${sim.setupUrl}/validate`, { method: 'POST', body: 'null' });
    expect(Date.parse(res.headers.get('date')!)).toBeGreaterThanOrEqual(after - 1000);
  });

  it('routes by Host header as well as by path prefix', async () => {
    // fetch may not set Host; node:http does.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${sim.baseUrl}/setup/ws/1/validate`,
        { method: 'POST', headers: { Host: 'setup.icloud.com' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('null');
    });
    expect(status).toBe(421);
  });

  it('answers 404 for an unknown host', async () => {
    expect((await fetch(`${sim.baseUrl}/example.com/x`)).status).toBe(404);
  });
});

describe('S41-S50 CloudKit admission (S42)', () => {
  const ck = async (cookie: string | undefined) => {
    const session = await control.session();
    const host = new URL(session.ckdatabasewsUrl).hostname;
    return fetch(`${sim.baseUrl}/${host}/database/1/com.apple.photos.cloud/production/private/zones/list`, {
      method: 'POST',
      headers: cookie === undefined ? {} : { Cookie: cookie },
      body: '{}',
    });
  };

  it('S42: without X-APPLE-WEBAUTH-USER CloudKit answers 421 naming that cookie', async () => {
    const res = await ck(undefined);
    expect(res.status).toBe(421);
    expect(await res.json()).toMatchObject({ reason: 'Missing X-APPLE-WEBAUTH-USER cookie' });
  });

  it('S42: without X-APPLE-WEBAUTH-TOKEN CloudKit answers 421 naming that cookie', async () => {
    const { cookie } = await control.session();
    const withoutToken = cookie
      .split('; ')
      .filter((c) => !c.startsWith('X-APPLE-WEBAUTH-TOKEN='))
      .join('; ');
    const res = await ck(withoutToken);
    expect(res.status).toBe(421);
    expect(await res.json()).toMatchObject({ reason: 'Missing X-APPLE-WEBAUTH-TOKEN cookie' });
  });

  it('S42: a revoked session answers 401', async () => {
    const { cookie } = await control.session();
    await control.signOutAll();
    const session = await control.session();
    const host = new URL(session.ckdatabasewsUrl).hostname;
    const res = await fetch(
      `${sim.baseUrl}/${host}/database/1/com.apple.photos.cloud/production/private/zones/list`,
      {
        method: 'POST',
        headers: { Cookie: cookie },
        body: '{}',
      },
    );
    expect(res.status).toBe(401);
  });
});
