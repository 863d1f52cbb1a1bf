import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import type { ControlClient } from '#test/helpers/simulator.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { SignInDriver } from '#test/helpers/srp-client.ts';

let sim: SimulatorHandle;
let control: ControlClient;
const DAY = 86_400_000;

beforeAll(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
});
afterAll(() => sim.stop());
beforeEach(async () => {
  await control.resetThrottle();
  await control.setFlags({
    hsaVersion: 2,
    domainToUse: null,
    termsUpdateNeeded: false,
    iCDPEnabled: false,
    isWebAccessAllowed: true,
  });
});

type Doc = Record<string, unknown> & {
  dsInfo: Record<string, unknown>;
  webservices: Record<string, Record<string, unknown>>;
};

/** The 2026 flow: 409 challenge, PUT trigger, code answered 409 `valid: true`, trust. */
async function twoFactorDone(): Promise<SignInDriver> {
  const d = new SignInDriver(sim.authUrl, sim.setupUrl);
  expect((await d.signIn(sim.appleId, sim.password)).status).toBe(409);
  expect((await d.requestCode()).status).toBe(202);
  expect((await d.submitCode(await control.code(sim.appleId))).status).toBe(409);
  expect((await d.trust()).status).toBe(204);
  return d;
}

function cookieExpiry(setCookies: string[], name: string): number | undefined {
  const line = setCookies.find((c) => c.startsWith(`${name}=`));
  const m = line ? /Expires=([^;]+)/.exec(line) : null;
  return m ? Date.parse(m[1]!.replace(/-/g, ' ')) : undefined;
}

describe('S32-S40 setup service', () => {
  it('S32: accountLogin accepts dsWebAuthToken alone', async () => {
    const d = new SignInDriver(sim.authUrl, sim.setupUrl);
    await d.signIn(sim.appleId, sim.password);
    const res = await d.send(`${sim.setupUrl}/accountLogin`, {
      method: 'POST',
      body: { dsWebAuthToken: d.sessionToken },
    });
    expect(res.status).toBe(200);
  });

  it('S32: accountLogin accepts the full body with accountCountryCode, extended_login and trustToken', async () => {
    const d = new SignInDriver(sim.authUrl, sim.setupUrl);
    await d.signIn(sim.appleId, sim.password);
    const res = await d.accountLogin({ accountCountryCode: 'USA', extended_login: true, trustToken: '' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=UTF-8');
  });

  it('S33: the account document has every field of S33', async () => {
    const d = new SignInDriver(sim.authUrl, sim.setupUrl);
    await d.signIn(sim.appleId, sim.password);
    const doc = (await (await d.accountLogin()).json()) as Doc;
    expect(doc.dsInfo).toMatchObject({
      dsid: expect.stringMatching(/^\d+$/),
      hsaVersion: 2,
      hasICloudQualifyingDevice: true,
      isWebAccessAllowed: true,
      iCDPEnabled: false,
    });
    expect(doc).toMatchObject({
      iCDPEnabled: false,
      hsaChallengeRequired: true,
      hsaTrustedBrowser: false,
      isExtendedLogin: true,
    });
    expect(doc.webservices['ckdatabasews']).toEqual({
      url: expect.stringMatching(/^https:\/\/p\d+-ckdatabasews\.icloud\.com:443$/),
      status: 'active',
      pcsRequired: true,
    });
    expect(doc.webservices['sharedlibrary']?.['url']).toBe('https://sharedlibrary.icloud.com:443');
  });

  it('S34: after code, trust and a second accountLogin the session is trusted and needs no challenge', async () => {
    const d = await twoFactorDone();
    const doc = (await (await d.accountLogin({ trustToken: d.trustToken })).json()) as Doc;
    expect(doc).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
  });

  it('S35: accountLogin sets the cookies of docs/protocol/session.md#cookies on .icloud.com with their lifetimes', async () => {
    const now = (await control.clock()).now;
    const d = new SignInDriver(sim.authUrl, sim.setupUrl);
    await d.signIn(sim.appleId, sim.password);
    const first = (await d.accountLogin()).headers.getSetCookie();
    const names = first.map((c) => c.split('=')[0]);
    for (const n of [
      'X-APPLE-UNIQUE-CLIENT-ID',
      'X-APPLE-WEBAUTH-LOGIN',
      'X-APPLE-WEBAUTH-VALIDATE',
      'X-APPLE-WEBAUTH-HSA-LOGIN',
      'X-APPLE-WEBAUTH-USER',
      'X-APPLE-DS-WEB-SESSION-TOKEN',
    ]) {
      expect(names, n).toContain(n);
    }
    expect(names.some((n) => n?.startsWith('X_APPLE_WEB_KB-'))).toBe(true);
    expect(names).not.toContain('X-APPLE-WEBAUTH-TOKEN');
    for (const c of first) expect(c).toContain('Domain=.icloud.com');
    expect(first.find((c) => c.startsWith('X-APPLE-WEBAUTH-USER='))).toContain(`"v=1:s=1:d=`);
    const userExpiry = cookieExpiry(first, 'X-APPLE-WEBAUTH-USER')!;
    expect(Math.round((userExpiry - now) / DAY)).toBe(30);
    const kb = first.find((c) => c.startsWith('X_APPLE_WEB_KB-'))!.split('=')[0]!;
    expect(Math.round((cookieExpiry(first, kb)! - now) / DAY)).toBe(60);

    const trusted = await twoFactorDone();
    const second = (await trusted.accountLogin({ trustToken: trusted.trustToken })).headers.getSetCookie();
    expect(second.some((c) => c.startsWith('X-APPLE-WEBAUTH-TOKEN='))).toBe(true);
    expect(second.some((c) => c.startsWith('X-APPLE-WEBAUTH-PCS-Photos='))).toBe(true);
    expect(second.some((c) => c.startsWith('X-APPLE-WEBAUTH-PCS-Sharing='))).toBe(true);
    expect(Math.round((cookieExpiry(second, 'X-APPLE-WEBAUTH-TOKEN')! - now) / DAY)).toBe(30);
  });

  it('S36: accountLogin with an unknown dsWebAuthToken answers 421', async () => {
    const res = await fetch(`${sim.setupUrl}/accountLogin`, {
      method: 'POST',
      body: JSON.stringify({ dsWebAuthToken: 'nope' }),
    });
    expect(res.status).toBe(421);
    expect(await res.json()).toMatchObject({ success: false });
  });

  it('S36: a stored session token plus trust token works again without SRP (headless reuse)', async () => {
    const { sessionToken, trustToken } = await control.session();
    const res = await fetch(`${sim.setupUrl}/accountLogin`, {
      method: 'POST',
      body: JSON.stringify({
        dsWebAuthToken: sessionToken,
        trustToken,
        extended_login: true,
        accountCountryCode: 'USA',
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
  });

  it('S36: an expired session token answers 421', async () => {
    const { sessionToken } = await control.session();
    await control.advanceClock({ advanceDays: 31 });
    const res = await fetch(`${sim.setupUrl}/accountLogin`, {
      method: 'POST',
      body: JSON.stringify({ dsWebAuthToken: sessionToken }),
    });
    expect(res.status).toBe(421);
  });

  it('S37: account flags show in the account document', async () => {
    await control.setFlags({ iCDPEnabled: true, isWebAccessAllowed: false, termsUpdateNeeded: true });
    const { sessionToken } = await control.session();
    const doc = (await (
      await fetch(`${sim.setupUrl}/accountLogin`, {
        method: 'POST',
        body: JSON.stringify({ dsWebAuthToken: sessionToken }),
      })
    ).json()) as Doc;
    expect(doc.iCDPEnabled).toBe(true);
    expect(doc.dsInfo).toMatchObject({ iCDPEnabled: true, isWebAccessAllowed: false });
    expect(doc['termsUpdateNeeded']).toBe(true);
  });

  it('S37: domainToUse makes accountLogin name the other region', async () => {
    await control.setFlags({ domainToUse: 'iCloud.com.cn' });
    const { sessionToken } = await control.session();
    const body = await (
      await fetch(`${sim.setupUrl}/accountLogin`, {
        method: 'POST',
        body: JSON.stringify({ dsWebAuthToken: sessionToken }),
      })
    ).json();
    expect(body).toMatchObject({ domainToUse: 'iCloud.com.cn' });
  });

  it('S37: an account without two-factor omits hsaChallengeRequired, hsaTrustedBrowser and hsaVersion', async () => {
    await control.setFlags({ hsaVersion: 0 });
    const d = new SignInDriver(sim.authUrl, sim.setupUrl);
    expect((await d.signIn(sim.appleId, sim.password)).status).toBe(200);
    const doc = (await (await d.accountLogin()).json()) as Doc;
    expect(doc).not.toHaveProperty('hsaChallengeRequired');
    expect(doc).not.toHaveProperty('hsaTrustedBrowser');
    expect(doc.dsInfo).not.toHaveProperty('hsaVersion');
  });

  it('S38: validate with a valid X-APPLE-WEBAUTH-TOKEN answers 200 and the account document', async () => {
    const { cookie } = await control.session();
    const res = await fetch(`${sim.setupUrl}/validate`, {
      method: 'POST',
      headers: { Cookie: cookie },
      body: 'null',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('webservices.ckdatabasews.url');
  });

  it('S38: validate without the cookie answers 421 Missing X-APPLE-WEBAUTH-TOKEN cookie', async () => {
    const res = await fetch(`${sim.setupUrl}/validate`, { method: 'POST', body: 'null' });
    expect(res.status).toBe(421);
    expect(await res.json()).toEqual({ success: false, error: 'Missing X-APPLE-WEBAUTH-TOKEN cookie' });
  });

  it('S38: validate after the session cookies expired (30 simulated days) answers 421', async () => {
    const { cookie } = await control.session();
    await control.advanceClock({ advanceDays: 30 });
    const res = await fetch(`${sim.setupUrl}/validate`, {
      method: 'POST',
      headers: { Cookie: cookie },
      body: 'null',
    });
    expect(res.status).toBe(421);
  });

  it('S39: after a partition move accountLogin returns another ckdatabasews url and the old host answers 421', async () => {
    const before = await control.session();
    const moved = await control.partitionMove();
    const after = await control.session();
    expect(after.ckdatabasewsUrl).not.toBe(before.ckdatabasewsUrl);
    expect(after.ckdatabasewsUrl).toContain(`p${moved.to}-`);
    const oldHost = new URL(before.ckdatabasewsUrl).hostname;
    const res = await fetch(
      `${sim.baseUrl}/${oldHost}/database/1/com.apple.photos.cloud/production/private/zones/list`,
      {
        method: 'POST',
        headers: { Cookie: after.cookie },
        body: '{}',
      },
    );
    expect(res.status).toBe(421);
  });

  it('S40: requestPCS on an ADP account answers failure until the simulated device approves, then attaches the cookies', async () => {
    await control.setFlags({ iCDPEnabled: true });
    const { cookie } = await control.session();
    const messages: string[] = [];
    let last: { status: string; message: string } | undefined;
    let res: Response | undefined;
    for (let i = 0; i < 5 && last?.status !== 'success'; i++) {
      res = await fetch(`${sim.setupUrl}/requestPCS`, {
        method: 'POST',
        headers: { Cookie: cookie },
        body: JSON.stringify({ appName: 'photos', derivedFromUserAction: true }),
      });
      last = (await res.json()) as { status: string; message: string };
      messages.push(last.message);
    }
    expect(messages.slice(0, 3)).toEqual([
      'Requested a new device arming to upload cookies.',
      'Requested the device to upload cookies.',
      'Cookies not available yet on server.',
    ]);
    expect(last).toMatchObject({ status: 'success', message: 'Cookies attached.' });
    const names = res!.headers.getSetCookie().map((c) => c.split('=')[0]);
    expect(names).toEqual(
      expect.arrayContaining(['X-APPLE-WEBAUTH-PCS-Photos', 'X-APPLE-WEBAUTH-PCS-Sharing']),
    );
  });
});
