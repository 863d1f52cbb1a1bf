import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import type { ControlClient } from '#test/helpers/simulator.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { idmsaHeaders, SignInDriver, TestSrpClient } from '#test/helpers/srp-client.ts';

let sim: SimulatorHandle;
let control: ControlClient;
const driver = () => new SignInDriver(sim.authUrl, sim.setupUrl);

beforeAll(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
});
afterAll(() => sim.stop());
beforeEach(async () => {
  await control.resetThrottle();
  await control.clearFaults();
  await control.setFlags({ fido: false, needsRepair: false, hsaVersion: 2, protocol: 's2k' });
  await control.settings({ cassetteMode: false, strictIdmsaHeaders: false, srpLimit: 10 });
});

describe('S7-S20 sign-in (SRP)', () => {
  it('S7: signin/init returns iteration, 16-byte salt, protocol, unpadded B and a fresh c', async () => {
    const d = driver();
    const { res, body } = await d.init(new TestSrpClient(sim.appleId, sim.password));
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ protocol: 's2k', iteration: expect.any(Number), c: expect.any(String) });
    expect(Buffer.from(body!.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(body!.b, 'base64')[0]).not.toBe(0);
    const second = await d.init(new TestSrpClient(sim.appleId, sim.password));
    expect((second.body as { c: string }).c).not.toBe((body as { c: string }).c);
  });

  it('S7: signin/init answers with the account protocol s2k_fo when configured', async () => {
    await control.setFlags({ protocol: 's2k_fo' });
    const { body } = await driver().init(new TestSrpClient(sim.appleId, sim.password));
    expect(body?.protocol).toBe('s2k_fo');
    const res = await driver().signIn(sim.appleId, sim.password);
    expect(res.status).toBe(409);
  });

  it('S2/S8: signin/init labels its JSON text/html, sets a new scnt and an aasp cookie on idmsa.apple.com', async () => {
    const d = driver();
    const { res } = await d.init(new TestSrpClient(sim.appleId, sim.password));
    expect(res.headers.get('content-type')).toBe('text/html;charset=UTF-8');
    expect(res.headers.get('scnt')).toBeTruthy();
    expect(res.headers.getSetCookie().find((c) => c.startsWith('aasp='))).toContain('Domain=idmsa.apple.com');
  });

  it('S9: signin/init for an unknown account still answers 200; complete then fails with 401', async () => {
    const res = await driver().signIn('nobody@example.com', 'whatever');
    expect(res.status).toBe(401);
  });

  it('S10: a correct m1 computed by an independent SRP client is accepted', async () => {
    const res = await driver().signIn(sim.appleId, sim.password);
    expect(res.status).toBe(409);
  });

  it('S11: a wrong m1 yields 401 with the -20101 serviceErrors body', async () => {
    const res = await driver().signIn(sim.appleId, 'wrong password');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      serviceErrors: [{ code: '-20101', message: expect.any(String), suppressDismissal: false }],
    });
  });

  it('S12: a reused c yields 401', async () => {
    const d = driver();
    const client = new TestSrpClient(sim.appleId, sim.password);
    const { body } = await d.init(client);
    const complete = () =>
      d.send(`${sim.authUrl}/signin/complete?isRememberMeEnabled=true`, {
        method: 'POST',
        headers: d.headers(),
        body: {
          accountName: sim.appleId,
          c: body!.c,
          ...client.proofs(body!),
          rememberMe: true,
          trustTokens: [],
        },
      });
    expect((await complete()).status).toBe(409);
    expect((await complete()).status).toBe(401);
  });

  it('S13: a two-factor account without trust token gets 409 with the challenge body', async () => {
    const res = await driver().signIn(sim.appleId, sim.password);
    expect(res.status).toBe(409);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      authType: 'hsa2',
      trustedDevices: [expect.objectContaining({ id: expect.any(String) })],
      trustedPhoneNumbers: [expect.objectContaining({ id: 1, numberWithDialCode: expect.any(String) })],
      securityCode: expect.objectContaining({ length: 6 }),
    });
    expect(body).not.toHaveProperty('fsaChallenge');
  });

  it('S13: a valid trust token makes signin/complete answer 200 {"authType":"hsa2"}', async () => {
    const { trustToken } = await control.session();
    const res = await driver().signIn(sim.appleId, sim.password, [trustToken]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ authType: 'hsa2' });
  });

  it('S13: signin/complete answers (409 and 200) re-set the aasp cookie on idmsa.apple.com', async () => {
    const challenged = await driver().signIn(sim.appleId, sim.password);
    expect(challenged.status).toBe(409);
    expect(challenged.headers.getSetCookie().find((c) => c.startsWith('aasp='))).toContain(
      'Domain=idmsa.apple.com',
    );
    const { trustToken } = await control.session();
    const trusted = await driver().signIn(sim.appleId, sim.password, [trustToken]);
    expect(trusted.status).toBe(200);
    expect(trusted.headers.getSetCookie().some((c) => c.startsWith('aasp='))).toBe(true);
  });

  it('S13: an account flagged "needs repair" gets 412 {"auth_type":"sa"}', async () => {
    await control.setFlags({ needsRepair: true });
    const res = await driver().signIn(sim.appleId, sim.password);
    expect(res.status).toBe(412);
    expect(await res.json()).toEqual({ auth_type: 'sa' });
  });

  it('S13: an account with security keys gets 409 with fsaChallenge and keyNames', async () => {
    await control.setFlags({ fido: true });
    const res = await driver().signIn(sim.appleId, sim.password);
    expect(res.status).toBe(409);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['fsaChallenge']).toMatchObject({ challenge: expect.any(String), rpId: 'apple.com' });
    expect(body['keyNames']).toEqual(expect.arrayContaining([expect.any(String)]));
  });

  it('S14: cassette mode answers the two-factor case with 200 {"auth_type":"hsa2"}', async () => {
    await control.settings({ cassetteMode: true });
    const res = await driver().signIn(sim.appleId, sim.password);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ auth_type: 'hsa2' });
  });

  it('S15: signin/complete carries the session headers', async () => {
    const res = await driver().signIn(sim.appleId, sim.password);
    for (const h of [
      'x-apple-session-token',
      'x-apple-id-session-id',
      'scnt',
      'x-apple-id-account-country',
      'x-apple-auth-attributes',
    ]) {
      expect(res.headers.get(h), h).toBeTruthy();
    }
    expect(res.headers.get('x-apple-twosv-trust-eligible')).toBe('true');
  });

  it('S16: repair/complete answers 200 with an empty body and clears the repair for the session', async () => {
    await control.setFlags({ needsRepair: true, hsaVersion: 0 });
    const d = driver();
    expect((await d.signIn(sim.appleId, sim.password)).status).toBe(412);
    expect((await d.accountLogin()).status).toBe(421);
    const repair = await d.send(`${sim.authUrl}/repair/complete`, {
      method: 'POST',
      headers: d.headers(),
      body: {},
    });
    expect(repair.status).toBe(200);
    expect(await repair.text()).toBe('');
    expect((await d.accountLogin()).status).toBe(200);
  });

  it('S17: signin/init without the widget key is refused', async () => {
    const client = new TestSrpClient(sim.appleId, sim.password);
    const headers = idmsaHeaders();
    delete headers['X-Apple-Widget-Key'];
    delete headers['X-Apple-OAuth-Client-Id'];
    const res = await fetch(`${sim.authUrl}/signin/init`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ a: client.publicValue, accountName: sim.appleId, protocols: ['s2k'] }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('S17 (amended by the recordings): signin/complete without scnt and session id is accepted by default', async () => {
    const client = new TestSrpClient(sim.appleId, sim.password);
    const { body } = await driver().init(client);
    // As recorded (2fa_flow_valid_code #1): the widget headers only, no scnt, no X-Apple-ID-Session-Id.
    const res = await fetch(`${sim.authUrl}/signin/complete?isRememberMeEnabled=true`, {
      method: 'POST',
      headers: idmsaHeaders(),
      body: JSON.stringify({
        accountName: sim.appleId,
        c: body!.c,
        ...client.proofs(body!),
        rememberMe: true,
        trustTokens: [],
      }),
    });
    expect(res.status).toBe(409);
  });

  it('S17: the session token sent as X-Apple-ID-Session-Id (icloudpd) is accepted on the two-factor calls', async () => {
    const d = driver();
    await d.signIn(sim.appleId, sim.password);
    const asIcloudpd = () =>
      idmsaHeaders({ Accept: 'application/json', scnt: d.scnt!, 'X-Apple-ID-Session-Id': d.sessionToken! });
    const trigger = await fetch(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
      method: 'PUT',
      headers: asIcloudpd(),
    });
    expect(trigger.status).toBe(202);
    const res = await fetch(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
      method: 'POST',
      headers: asIcloudpd(),
      body: JSON.stringify({ securityCode: { code: await control.code() } }),
    });
    expect(res.status).toBe(409);
  });

  it('S17: strict headers apply per account too (the account flag overrides the global setting)', async () => {
    await control.setFlags({ strictIdmsaHeaders: true });
    try {
      const d = driver();
      await d.signIn(sim.appleId, sim.password);
      const res = await fetch(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
        method: 'PUT',
        headers: idmsaHeaders({ 'X-Apple-ID-Session-Id': d.sessionToken! }),
      });
      expect(res.status).toBe(401);
    } finally {
      await control.setFlags({ strictIdmsaHeaders: null });
    }
  });

  it('S17: signin/complete without the scnt from init answers 401 when strict', async () => {
    await control.settings({ strictIdmsaHeaders: true });
    const d = driver();
    const client = new TestSrpClient(sim.appleId, sim.password);
    const { body } = await d.init(client);
    const res = await fetch(`${sim.authUrl}/signin/complete?isRememberMeEnabled=true`, {
      method: 'POST',
      headers: idmsaHeaders(),
      body: JSON.stringify({
        accountName: sim.appleId,
        c: body!.c,
        ...client.proofs(body!),
        rememberMe: true,
        trustTokens: [],
      }),
    });
    expect(res.status).toBe(401);
  });

  it('S17: verify calls without scnt and session id answer 401 when strict', async () => {
    await control.settings({ strictIdmsaHeaders: true });
    const d = driver();
    await d.signIn(sim.appleId, sim.password);
    await d.requestCode();
    const res = await fetch(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
      method: 'POST',
      headers: idmsaHeaders(),
      body: JSON.stringify({ securityCode: { code: await control.code() } }),
    });
    expect(res.status).toBe(401);
  });

  it('S18: above the SRP limit signin/init answers 503 with the 29-byte text/html body', async () => {
    await control.settings({ srpLimit: 2 });
    const client = new TestSrpClient(sim.appleId, sim.password);
    expect((await driver().init(client)).res.status).toBe(200);
    expect((await driver().init(client)).res.status).toBe(200);
    const { res } = await driver().init(client);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/html');
    const text = await res.text();
    expect(text).toBe('Service Temporary Unavailable');
    expect(Buffer.byteLength(text)).toBe(29);
  });

  it('S18: the throttling window clears with simulated time', async () => {
    await control.settings({ srpLimit: 1, srpBlockExtends: false });
    const client = new TestSrpClient(sim.appleId, sim.password);
    expect((await driver().init(client)).res.status).toBe(200);
    expect((await driver().init(client)).res.status).toBe(503);
    await control.advanceClock({ advanceMs: 3_600_001 });
    expect((await driver().init(client)).res.status).toBe(200);
    await control.settings({ srpBlockExtends: true });
  });

  it('S18: attempts during a block extend it', async () => {
    await control.settings({ srpLimit: 1, srpBlockExtends: true });
    const client = new TestSrpClient(sim.appleId, sim.password);
    expect((await driver().init(client)).res.status).toBe(200);
    await control.advanceClock({ advanceMs: 40 * 60_000 });
    expect((await driver().init(client)).res.status).toBe(503);
    await control.advanceClock({ advanceMs: 40 * 60_000 });
    // 80 minutes after the first attempt, but only 40 after the blocked one: still blocked.
    expect((await driver().init(client)).res.status).toBe(503);
  });

  it('S19: the legacy password sign-in answers 503', async () => {
    const res = await fetch(`${sim.authUrl}/signin?isRememberMeEnabled=true`, {
      method: 'POST',
      headers: idmsaHeaders(),
      body: JSON.stringify({
        accountName: sim.appleId,
        password: sim.password,
        rememberMe: true,
        trustTokens: [],
      }),
    });
    expect(res.status).toBe(503);
  });

  it('S19: in cassette mode the legacy sign-in answers 200 with X-Apple-I-Rscd 401 for a wrong password', async () => {
    await control.settings({ cassetteMode: true });
    const res = await fetch(`${sim.authUrl}/signin?isRememberMeEnabled=true`, {
      method: 'POST',
      headers: idmsaHeaders(),
      body: JSON.stringify({ accountName: sim.appleId, password: 'bad', rememberMe: true, trustTokens: [] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-apple-i-rscd')).toBe('401');
  });

  it('S20: the authorize/signin page answers 200 text/html with scnt and aasp', async () => {
    const res = await fetch(`${sim.authUrl}/authorize/signin?frame_id=x&client_id=y`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('scnt')).toBeTruthy();
    expect(res.headers.getSetCookie().some((c) => c.startsWith('aasp='))).toBe(true);
  });
});
