import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
beforeEach(async () => {
  await control.clearFaults();
  await control.resetThrottle();
  await control.resetStats();
});

const validate = (cookie?: string) =>
  fetch(`${sim.setupUrl}/validate`, {
    method: 'POST',
    headers: cookie ? { Cookie: cookie } : {},
    body: 'null',
  });
const init = () => {
  const client = new TestSrpClient(sim.appleId, sim.password);
  return fetch(`${sim.authUrl}/signin/init`, {
    method: 'POST',
    headers: idmsaHeaders(),
    body: JSON.stringify({ a: client.publicValue, accountName: sim.appleId, protocols: ['s2k'] }),
  });
};

describe('S116-S118 control plane', () => {
  it('S116: GET /__sim describes the base URL, hosts and the rewrite rule', async () => {
    const d = await control.describe();
    expect(d.baseUrl).toBe(sim.baseUrl);
    expect(d.hosts).toMatchObject({ idmsa: 'idmsa.apple.com', setup: 'setup.icloud.com' });
    expect(d.rewrite).toBe(`https://<host>/<p> -> ${sim.baseUrl}/<host>/<p>`);
  });

  it('S116: POST /session returns a trusted session whose cookie passes validate', async () => {
    const s = await control.session();
    expect(s.ckdatabasewsUrl).toMatch(/^https:\/\/p\d+-ckdatabasews\.icloud\.com:443$/);
    expect(s.trustToken).toMatch(/^HSARMTKN/);
    expect(s.dsid).toMatch(/^\d+$/);
    expect((await validate(s.cookie)).status).toBe(200);
  });

  it('stats count Apple calls by endpoint key, not control calls, and reset to zero', async () => {
    // A 421 would be counted twice: undici's fetch retries 421 (Misdirected Request) once by itself.
    const { cookie } = await control.session();
    await validate(cookie);
    await validate(cookie);
    await init();
    const stats = await control.stats();
    expect(stats).toEqual({ total: 3, requests: { validate: 2, 'signin/init': 1 } });
    expect(await control.resetStats()).toEqual({ total: 0, requests: {} });
  });

  it('stats key CloudKit calls by the path after the database', async () => {
    const s = await control.session();
    const host = new URL(s.ckdatabasewsUrl).hostname;
    await fetch(
      `${sim.baseUrl}/${host}/database/1/com.apple.photos.cloud/production/private/changes/zone?dsid=${s.dsid}`,
      {
        method: 'POST',
        headers: { Cookie: s.cookie },
        body: '{}',
      },
    );
    expect((await control.stats()).requests).toEqual({ 'changes/zone': 1 });
  });

  it('S116: GET /2fa/code answers 404 before any push and the pushed code after', async () => {
    const fresh = await startTestSimulator();
    try {
      const c = controlClient(fresh);
      await expect(c.code()).rejects.toMatchObject({ status: 404 });
      const d = new SignInDriver(fresh.authUrl, fresh.setupUrl);
      await d.signIn(fresh.appleId, fresh.password);
      await expect(c.code(), 'the 2026 sign-in pushes nothing by itself').rejects.toMatchObject({
        status: 404,
      });
      await d.requestCode();
      expect(await c.code()).toMatch(/^\d{6}$/);
    } finally {
      await fresh.stop();
    }
  });

  it('S116: GET /requests lists method, host, path and status, never cookies or tokens', async () => {
    const s = await control.session();
    await validate(s.cookie);
    const { requests } = await control.requests(5);
    const last = requests.at(-1)!;
    expect(last).toMatchObject({
      method: 'POST',
      host: 'setup.icloud.com',
      path: '/setup/ws/1/validate',
      status: 200,
    });
    const dump = JSON.stringify(requests);
    expect(dump).not.toContain(s.cookie.slice(0, 40));
    expect(dump).not.toContain(s.trustToken);
  });

  it('a malformed control body is a 400 naming the problem', async () => {
    await expect(
      control.call('POST', '/faults', { endpoint: 'validate', status: 'x' }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(control.call('POST', '/clock', { advanceMs: 1, extra: 1 })).rejects.toMatchObject({
      status: 400,
    });
  });
});

describe('S117: every failure of docs/protocol/limits.md#failure-modes can be injected', () => {
  it('a fault with count fires that many times, then the real answer returns', async () => {
    await control.injectFault({ endpoint: 'validate', status: 503, count: 2 });
    expect((await validate()).status).toBe(503);
    expect((await validate()).status).toBe(503);
    expect((await validate()).status).toBe(421);
  });

  it('probability 0 never fires and probability 1 always fires', async () => {
    await control.injectFault({ endpoint: 'validate', status: 500, probability: 0 });
    expect((await validate()).status).toBe(421);
    await control.clearFaults();
    await control.injectFault({ endpoint: 'validate', status: 500, probability: 1 });
    expect((await validate()).status).toBe(500);
  });

  it.each([
    ['a JSON body', { serverErrorCode: 'THROTTLED', reason: 'slow down' }, undefined, 'application/json'],
    ['a string body', 'Too busy', undefined, 'text/plain'],
    ['a string body with its content type', '<p>busy</p>', 'text/html', 'text/html'],
  ])(
    'a fault with both status and %s answers exactly that',
    async (_what, body, contentType, expectedType) => {
      await control.injectFault({
        endpoint: 'validate',
        status: 429,
        body,
        ...(contentType === undefined ? {} : { contentType }),
        retryAfter: 7,
      });
      const res = await validate();
      expect(res.status).toBe(429);
      expect(res.headers.get('content-type')).toContain(expectedType);
      expect(res.headers.get('retry-after')).toBe('7');
      const text = await res.text();
      expect(typeof body === 'string' ? text : JSON.parse(text)).toEqual(body);
    },
  );

  it('srp-503 answers 503 with the 29-byte Service Temporary Unavailable body', async () => {
    await control.injectFault({ endpoint: 'signin/init', mode: 'srp-503' });
    const res = await init();
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(Buffer.byteLength(await res.text())).toBe(29);
  });

  it('wrong-password-401 answers the -20101 body', async () => {
    await control.injectFault({ endpoint: 'signin/complete', mode: 'wrong-password-401' });
    const res = await new SignInDriver(sim.authUrl, sim.setupUrl).signIn(sim.appleId, sim.password);
    expect(res.status).toBe(401);
    expect(JSON.stringify(await res.json())).toContain('-20101');
  });

  it('stale-context-401 answers 401 on signin/init', async () => {
    await control.injectFault({ endpoint: 'signin/init', mode: 'stale-context-401' });
    expect((await init()).status).toBe(401);
  });

  it('missing-token-cookie-421 on validate answers the setup-style body', async () => {
    const s = await control.session();
    await control.injectFault({ endpoint: 'validate', mode: 'missing-token-cookie-421' });
    const res = await validate(s.cookie);
    expect(res.status).toBe(421);
    expect(await res.json()).toEqual({ success: false, error: 'Missing X-APPLE-WEBAUTH-TOKEN cookie' });
  });

  it('bare-403, no-auth-method-401, missing-user-cookie-421 and try-again-later answer as on CloudKit', async () => {
    const s = await control.session();
    const host = new URL(s.ckdatabasewsUrl).hostname;
    const call = () =>
      fetch(`${sim.baseUrl}/${host}/database/1/com.apple.photos.cloud/production/private/records/query`, {
        method: 'POST',
        headers: { Cookie: s.cookie },
        body: '{}',
      });
    const cases: [string, number, (body: string) => void][] = [
      ['bare-403', 403, (b) => expect(b).toBe('')],
      ['no-auth-method-401', 401, (b) => expect(b).toContain('no auth method found')],
      [
        'missing-user-cookie-421',
        421,
        (b) => expect(JSON.parse(b)).toMatchObject({ reason: 'Missing X-APPLE-WEBAUTH-USER cookie' }),
      ],
      [
        'try-again-later',
        200,
        (b) =>
          expect(JSON.parse(b)).toEqual({
            serverErrorCode: 'TRY_AGAIN_LATER',
            reason: 'Sync zone CAS Op-Lock failed',
          }),
      ],
    ];
    for (const [mode, status, check] of cases) {
      // fetch replays a 421 once by itself, so that fault must fire twice.
      await control.injectFault({ endpoint: 'records/query', mode, count: status === 421 ? 2 : 1 });
      const res = await call();
      expect(res.status, mode).toBe(status);
      check(await res.text());
    }
  });

  it('429 and 503 with and without Retry-After', async () => {
    await control.injectFault({ endpoint: 'validate', status: 429, retryAfter: 7, count: 1 });
    const limited = await validate();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    await control.injectFault({ endpoint: 'validate', status: 503, count: 1 });
    const unavailable = await validate();
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBeNull();
  });

  it('html-200 answers an HTML error page with status 200; short-17 a 17-byte body', async () => {
    await control.injectFault({ endpoint: 'validate', mode: 'html-200', count: 1 });
    const html = await validate();
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    await control.injectFault({ endpoint: 'validate', mode: 'short-17', count: 1 });
    expect(Buffer.byteLength(await (await validate()).text())).toBe(17);
  });

  it('delayMs delays the answer', async () => {
    await control.injectFault({ endpoint: 'validate', delayMs: 150, count: 1 });
    const t = performance.now();
    await validate();
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
  });

  it('truncate-body sends less than Content-Length and closes; reset-mid-body and reset break the connection', async () => {
    const s = await control.session();
    for (const mode of ['truncate-body', 'reset-mid-body', 'reset']) {
      await control.injectFault({ endpoint: 'validate', mode, count: 1 });
      await expect(
        validate(s.cookie).then((r) => r.text()),
        mode,
      ).rejects.toThrow();
    }
    expect((await validate(s.cookie)).status).toBe(200);
  });

  it('slow-body delivers the whole body, slowly', async () => {
    const s = await control.session();
    await control.injectFault({
      endpoint: 'validate',
      mode: 'slow-body',
      chunkBytes: 512,
      chunkDelayMs: 20,
      count: 1,
    });
    const res = await validate(s.cookie);
    const text = await res.text();
    expect(text.length).toBe(Number(res.headers.get('content-length')));
    expect(JSON.parse(text)).toHaveProperty('dsInfo');
  });

  it('GET /faults lists injected faults and DELETE clears them', async () => {
    await control.injectFault({ endpoint: '*', status: 500, probability: 0 });
    expect((await control.faults()).faults).toHaveLength(1);
    await control.clearFaults();
    expect((await control.faults()).faults).toHaveLength(0);
  });
});
