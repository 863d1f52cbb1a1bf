import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import type { ControlClient } from '#test/helpers/simulator.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { SignInDriver } from '#test/helpers/srp-client.ts';

let sim: SimulatorHandle;
let control: ControlClient;

beforeAll(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
});
afterAll(() => sim.stop());
beforeEach(async () => {
  await control.resetThrottle();
  await control.settings({ autoPushOnSignin: true, maxWrongCodes: 5, maxPushes: 10 });
  await control.setFlags({ authFlow: '2026' });
});

/** A driver signed in up to the 409 two-factor challenge. */
async function challenged(): Promise<SignInDriver> {
  const d = new SignInDriver(sim.authUrl, sim.setupUrl);
  expect((await d.signIn(sim.appleId, sim.password)).status).toBe(409);
  return d;
}

/** The 2026 flow up to a code on the device: the 409 challenge, then the PUT trigger (S119). */
async function withCode(): Promise<SignInDriver> {
  const d = await challenged();
  expect((await d.requestCode()).status).toBe(202);
  return d;
}

/**
 * S22, S25, S26 in docs/protocol/simulator-contract.md#two-factor-and-trust describe Apple before 2026 (the 2026 addendum replaces them by S119,
 * S120 and S125): their tests pin the account's `authFlow: "2025"` switch.
 */
const in2025Flow = () => control.setFlags({ authFlow: '2025' });

describe('S21-S31 two-factor and trust', () => {
  it('S21: GET /appleauth/auth without a JSON Accept returns the boot_args HTML page', async () => {
    const d = await challenged();
    const res = await d.send(sim.authUrl, { method: 'GET', headers: d.headers({ Accept: '*/*' }) });
    expect(res.status).toBe(200);
    const html = await res.text();
    const m = /<script type="application\/json" class="boot_args">(.*)<\/script>/s.exec(html);
    const boot = JSON.parse(m![1]!) as {
      direct: { twoSV: { phoneNumberVerification: { trustedPhoneNumbers: unknown[] } } };
    };
    expect(boot.direct.twoSV.phoneNumberVerification.trustedPhoneNumbers).toEqual([
      expect.objectContaining({ id: 1, numberWithDialCode: expect.any(String), pushMode: 'sms' }),
    ]);
  });

  it('S21: GET /appleauth/auth with Accept: application/json returns top-level trustedPhoneNumbers', async () => {
    const d = await challenged();
    const res = await d.send(sim.authUrl, {
      method: 'GET',
      headers: d.headers({ Accept: 'application/json' }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['trustedPhoneNumbers']).toEqual([expect.objectContaining({ id: 1 })]);
    expect(body['securityCode']).toMatchObject({ length: 6 });
  });

  it('S22 (2025 flow): all three push endpoints push a new 6-digit code and answer 2xx', async () => {
    await in2025Flow();
    const d = await challenged();
    const pushes = [
      ['PUT', '/verify/trusteddevice/securitycode'],
      ['PUT', '/verify/trusteddevice'],
      ['GET', '/verify/trusteddevice'],
    ] as const;
    for (const [method, path] of pushes) {
      const before = await control.code(sim.appleId);
      await control.setNextCode(before === '111111' ? '222222' : '111111');
      const res = await d.send(`${sim.authUrl}${path}`, {
        method,
        headers: d.headers({ Accept: 'application/json' }),
      });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(300);
      const after = await control.code(sim.appleId);
      expect(after).toMatch(/^\d{6}$/);
      expect(after).not.toBe(before);
    }
  });

  it('S22 (2025 flow): PUT verify/trusteddevice answers 202 with trustedDeviceCount', async () => {
    await in2025Flow();
    const d = await challenged();
    const res = await d.send(`${sim.authUrl}/verify/trusteddevice`, { method: 'PUT', headers: d.headers() });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ trustedDeviceCount: 1, securityCode: { length: 6 } });
  });

  it('S23: a new push invalidates the previously pushed code', async () => {
    const d = await withCode();
    const first = await control.code(sim.appleId);
    await control.setNextCode(first === '333333' ? '444444' : '333333');
    await d.send(`${sim.authUrl}/verify/trusteddevice/securitycode`, { method: 'PUT', headers: d.headers() });
    expect((await d.submitCode(first)).status).toBe(400);
  });

  it('S24: PUT verify/phone sends an SMS code and answers 200 with the phone-verification body', async () => {
    const d = await challenged();
    const res = await d.send(`${sim.authUrl}/verify/phone`, {
      method: 'PUT',
      headers: d.headers({ 'Content-Type': 'application/json; charset=utf-8' }),
      body: { phoneNumber: { id: 1 }, mode: 'sms' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      trustedPhoneNumber: { id: 1 },
      trustedPhoneNumbers: [expect.objectContaining({ id: 1 })],
      securityCode: { length: 6 },
      authenticationType: 'hsa2',
    });
    expect(await control.code(sim.appleId)).toMatch(/^\d{6}$/);
  });

  it('S25 (2025 flow): the current code yields 204 with new session headers and dslang/site cookies', async () => {
    await in2025Flow();
    const d = await challenged();
    const before = d.sessionToken;
    const res = await d.submitCode(await control.code(sim.appleId));
    expect(res.status).toBe(204);
    for (const h of ['x-apple-session-token', 'x-apple-id-session-id', 'scnt', 'x-apple-oauth-grant-code']) {
      expect(res.headers.get(h), h).toBeTruthy();
    }
    expect(d.sessionToken).not.toBe(before);
    const cookies = res.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('dslang='))).toContain('Domain=apple.com');
    expect(cookies.find((c) => c.startsWith('site='))).toContain('Domain=apple.com');
  });

  it('S25/S127: a wrong code yields 400 with X-Apple-I-Ercd -21669 and the service_errors body', async () => {
    const d = await withCode();
    const code = await control.code(sim.appleId);
    const res = await d.submitCode(code === '000000' ? '000001' : '000000');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-apple-i-ercd')).toBe('-21669');
    expect(await res.json()).toEqual({
      service_errors: [
        {
          code: '-21669',
          title: 'Incorrect Verification Code',
          message: 'Incorrect verification code.',
          suppressDismissal: false,
        },
      ],
      hasError: true,
    });
  });

  it('S26 (2025 flow): the SMS code submitted to verify/phone/securitycode answers 200', async () => {
    await in2025Flow();
    const d = await challenged();
    await d.send(`${sim.authUrl}/verify/phone`, {
      method: 'PUT',
      headers: d.headers(),
      body: { phoneNumber: { id: 1 }, mode: 'sms' },
    });
    const res = await d.send(`${sim.authUrl}/verify/phone/securitycode`, {
      method: 'POST',
      headers: d.headers(),
      body: { phoneNumber: { id: 1 }, securityCode: { code: await control.code(sim.appleId) }, mode: 'sms' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-apple-session-token')).toBeTruthy();
  });

  it('S27: codes are compared as strings, so a leading zero matters', async () => {
    await control.setNextCode('012345');
    const d = await withCode();
    expect((await d.submitCode('12345')).status).toBe(400);
    expect((await d.submitCode('012345')).status).toBe(409);
  });

  it('S28: after too many wrong codes the boot data says securityCodeLocked and even the right code is refused', async () => {
    await control.settings({ maxWrongCodes: 2 });
    const d = await withCode();
    const code = await control.code(sim.appleId);
    const wrong = code === '999999' ? '999998' : '999999';
    await d.submitCode(wrong);
    await d.submitCode(wrong);
    expect((await d.submitCode(code)).status).toBe(400);
    const page = await d.send(sim.authUrl, {
      method: 'GET',
      headers: d.headers({ Accept: 'application/json' }),
    });
    expect(
      ((await page.json()) as { securityCode: { securityCodeLocked: boolean } }).securityCode
        .securityCodeLocked,
    ).toBe(true);
  });

  it('S28: after too many pushes further pushes are refused and tooManyCodesSent is set', async () => {
    await control.settings({ maxPushes: 2 });
    const d = await withCode();
    await d.send(`${sim.authUrl}/verify/trusteddevice/securitycode`, { method: 'PUT', headers: d.headers() });
    const refused = await d.send(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
      method: 'PUT',
      headers: d.headers(),
    });
    expect(refused.status).toBe(400);
    const page = await d.send(sim.authUrl, {
      method: 'GET',
      headers: d.headers({ Accept: 'application/json' }),
    });
    expect(
      ((await page.json()) as { securityCode: { tooManyCodesSent: boolean } }).securityCode.tooManyCodesSent,
    ).toBe(true);
  });

  it('S29: 2sv/trust before a correct code answers 401', async () => {
    const d = await withCode();
    expect((await d.trust()).status).toBe(401);
  });

  it('S29: 2sv/trust after a correct code answers 204 with an HSARMTKN…SRVX trust token and a new session token', async () => {
    const d = await withCode();
    expect((await d.submitCode(await control.code(sim.appleId))).status).toBe(409);
    const before = d.sessionToken;
    const res = await d.trust();
    expect(res.status).toBe(204);
    expect(res.headers.get('x-apple-twosv-trust-token')).toMatch(/^HSARMTKN.*SRVX$/);
    expect(d.sessionToken).not.toBe(before);
  });

  it('S30: trust tokens expire after 60 simulated days', async () => {
    const { trustToken } = await control.session();
    const d = new SignInDriver(sim.authUrl, sim.setupUrl);
    expect((await d.signIn(sim.appleId, sim.password, [trustToken])).status).toBe(200);
    await control.advanceClock({ advanceDays: 61 });
    await control.resetThrottle();
    expect(
      (await new SignInDriver(sim.authUrl, sim.setupUrl).signIn(sim.appleId, sim.password, [trustToken]))
        .status,
    ).toBe(409);
  });

  it('S30: a password change kills every trust token', async () => {
    const { trustToken } = await control.session();
    await control.passwordChange();
    const res = await new SignInDriver(sim.authUrl, sim.setupUrl).signIn(sim.appleId, sim.password, [
      trustToken,
    ]);
    expect(res.status).toBe(409);
  });

  it('S30: sign-out of all browsers kills every trust token', async () => {
    const { trustToken } = await control.session();
    await control.signOutAll();
    const res = await new SignInDriver(sim.authUrl, sim.setupUrl).signIn(sim.appleId, sim.password, [
      trustToken,
    ]);
    expect(res.status).toBe(409);
  });
});
