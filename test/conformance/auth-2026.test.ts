/**
 * The 2026 changes to sign-in (statements S119-S128, S134-S137, S145, S146): code delivery only on
 * the explicit PUT trigger, the retired triggers, where the phone numbers are, the 409 answer to a
 * correct code and its per-account variants, header profiles, security keys, the bridge shortcut, the
 * fault triggers and the per-account step log. Every test runs against the default account (2026 flow)
 * unless it names a switch.
 */
import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import type { ControlClient } from '#test/helpers/simulator.ts';
import { ControlError, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { idmsaHeaders, SignInDriver } from '#test/helpers/srp-client.ts';

let sim: SimulatorHandle;
let control: ControlClient;

/** Every flag the tests below switch, at its default. */
const DEFAULT_2026_FLAGS = {
  authFlow: '2026',
  fido: false,
  escrow: null,
  escrowEnforced: false,
  codeAnswerWithoutSessionToken: false,
  codeAnswerTrustToken: false,
  codeAnswerStatus: 409,
  wrongCodeStatus: 400,
  pushTriggerBody: false,
  trustedDeviceGetStatus: 405,
  noTrustedDevices: false,
  bridgeRouted: false,
  phoneNonFTEU: false,
  authJsonShape: 'top-level',
  rejectIdmsaProfileOnVerify: false,
  strictIdmsaHeaders: null,
} as const;

beforeAll(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
});
afterAll(() => sim.stop());
beforeEach(async () => {
  await control.resetThrottle();
  await control.clearFaults();
  await control.settings({ strictIdmsaHeaders: false, cassetteMode: false, maxPushes: 10 });
  await control.setFlags(DEFAULT_2026_FLAGS);
});

const driver = () => new SignInDriver(sim.authUrl, sim.setupUrl);

/** The code currently shown for the owner, or undefined before any. */
async function shownCode(): Promise<string | undefined> {
  try {
    return await control.code(sim.appleId);
  } catch (e) {
    if (e instanceof ControlError && e.status === 404) return undefined;
    throw e;
  }
}

async function challenged(): Promise<SignInDriver> {
  const d = driver();
  expect((await d.signIn(sim.appleId, sim.password)).status).toBe(409);
  return d;
}

/** 409 challenge, PUT trigger, correct code: returns the driver and the code answer. */
async function codeAccepted(): Promise<{ d: SignInDriver; res: Response }> {
  const d = await challenged();
  expect((await d.requestCode()).status).toBe(202);
  return { d, res: await d.submitCode((await shownCode())!) };
}

async function smsCodeAccepted(): Promise<Response> {
  const d = await challenged();
  const sent = await d.send(`${sim.authUrl}/verify/phone`, {
    method: 'PUT',
    headers: d.headers({ 'Content-Type': 'application/json; charset=utf-8' }),
    body: { phoneNumber: { id: 1, nonFTEU: false }, mode: 'sms' },
  });
  expect(sent.status).toBe(200);
  return d.send(`${sim.authUrl}/verify/phone/securitycode`, {
    method: 'POST',
    headers: d.headers({ Accept: 'application/json' }),
    body: { phoneNumber: { id: 1, nonFTEU: false }, securityCode: { code: await shownCode() }, mode: 'sms' },
  });
}

const bootArgs = (html: string) =>
  JSON.parse(/<script type="application\/json" class="boot_args">(.*)<\/script>/s.exec(html)![1]!) as {
    direct: Record<string, unknown> & { twoSV: Record<string, unknown> };
  };

describe('S119-S121: a code only on the explicit trigger', () => {
  it('S119: signin/complete 409 and GET /appleauth/auth push no code', async () => {
    const before = await shownCode();
    const d = await challenged();
    await d.send(sim.authUrl, { method: 'GET', headers: d.headers({ Accept: '*/*' }) });
    await d.send(sim.authUrl, { method: 'GET', headers: d.headers({ Accept: 'application/json' }) });
    expect(await shownCode()).toBe(before);
  });

  it('S119: PUT verify/trusteddevice/securitycode answers 202 with an empty body, no X-Apple-Edp, and one new code', async () => {
    await control.setFlags({ escrow: 'EDP' });
    const d = await challenged();
    const before = await shownCode();
    await control.setNextCode(before === '271828' ? '314159' : '271828');
    const res = await d.requestCode();
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    expect(res.headers.get('x-apple-edp')).toBeNull();
    const code = await shownCode();
    expect(code).toMatch(/^\d{6}$/);
    expect(code).not.toBe(before);
  });

  it('S119: the trigger takes the literal JSON body null (rclone)', async () => {
    const d = await challenged();
    const res = await d.send(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
      method: 'PUT',
      headers: d.headers({ Accept: 'application/json' }),
      body: 'null',
    });
    expect(res.status).toBe(202);
  });

  it('S119: with pushTriggerBody the 202 carries trustedDeviceCount, securityCode and phoneNumberVerification', async () => {
    await control.setFlags({ pushTriggerBody: true });
    const res = await (await challenged()).requestCode();
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      trustedDeviceCount: 1,
      securityCode: { length: 6 },
      phoneNumberVerification: { trustedPhoneNumbers: [expect.objectContaining({ id: 1 })] },
    });
  });

  it('S120: PUT and POST verify/trusteddevice answer 405 and push nothing', async () => {
    const d = await challenged();
    const before = await shownCode();
    for (const method of ['PUT', 'POST']) {
      const res = await d.send(`${sim.authUrl}/verify/trusteddevice`, { method, headers: d.headers() });
      expect(res.status, method).toBe(405);
    }
    expect(await shownCode()).toBe(before);
  });

  it('S120: GET verify/trusteddevice answers 405 by default and 200 with trustedDeviceGetStatus, pushing nothing', async () => {
    const d = await challenged();
    const before = await shownCode();
    const get = () => d.send(`${sim.authUrl}/verify/trusteddevice`, { method: 'GET', headers: d.headers() });
    expect((await get()).status).toBe(405);
    await control.setFlags({ trustedDeviceGetStatus: 200 });
    expect((await get()).status).toBe(200);
    expect(await shownCode()).toBe(before);
  });

  it('S121/S23: a second trigger between showing and submitting a code invalidates the first', async () => {
    const d = await challenged();
    await d.requestCode();
    const first = (await shownCode())!;
    await control.setNextCode(first === '161803' ? '141421' : '161803');
    await d.requestCode();
    expect((await d.submitCode(first)).status).toBe(400);
  });

  it('the 2025 flow (authFlow "2025") pushes at signin/complete, as the recordings assume', async () => {
    await control.setFlags({ authFlow: '2025' });
    await control.setNextCode('202520');
    await challenged();
    expect(await shownCode()).toBe('202520');
  });
});

describe('S122-S124: where the options are', () => {
  it('S122: a bridge-routed account lists its phones only under twoSV.bridgeInitiateData', async () => {
    await control.setFlags({ bridgeRouted: true });
    const d = await challenged();
    const page = await d.send(sim.authUrl, { method: 'GET', headers: d.headers({ Accept: 'text/html' }) });
    const { direct } = bootArgs(await page.text());
    expect(direct['authInitialRoute']).toBe('auth/bridge/step');
    expect(direct['hasTrustedDevices']).toBe(true);
    expect(direct.twoSV['authFactors']).toContain('web_piggybacking');
    expect(direct.twoSV['sourceAppId']).toEqual(expect.any(Number));
    expect(direct.twoSV['bridgeInitiateData']).toMatchObject({
      apnsTopic: 'com.apple.idmsauthwidget',
      apnsEnvironment: 'prod',
      webSocketUrl: 'websocket.push.apple.com',
      phoneNumberVerification: {
        trustedPhoneNumbers: [expect.objectContaining({ id: 1, nonFTEU: false })],
        trustedPhoneNumber: expect.objectContaining({ id: 1 }),
      },
    });
    const old = direct.twoSV['phoneNumberVerification'] as Record<string, unknown>;
    expect(old['trustedPhoneNumbers']).toEqual([]);
    expect(old).not.toHaveProperty('trustedPhoneNumber');
  });

  it('S122/S137: a bridge-routed account still gets a code through the PUT trigger', async () => {
    await control.setFlags({ bridgeRouted: true });
    const { res } = await codeAccepted();
    expect(res.status).toBe(409);
  });

  it('S123: JSON GET /appleauth/auth puts the phones at the top level, in an envelope, or nowhere (authJsonShape)', async () => {
    const d = await challenged();
    const json = async () =>
      (await (
        await d.send(sim.authUrl, { method: 'GET', headers: d.headers({ Accept: 'application/json' }) })
      ).json()) as Record<string, unknown>;
    expect(await json()).toMatchObject({
      trustedPhoneNumbers: [expect.objectContaining({ id: 1 })],
      trustedPhoneNumber: expect.objectContaining({ id: 1 }),
      noTrustedDevices: false,
      authenticationType: 'hsa2',
      hsa2Account: true,
    });
    await control.setFlags({ authJsonShape: 'envelope' });
    const envelope = await json();
    expect(envelope).not.toHaveProperty('trustedPhoneNumbers');
    expect(envelope['phoneNumberVerification']).toMatchObject({
      trustedPhoneNumbers: [expect.objectContaining({ id: 1 })],
    });
    await control.setFlags({ authJsonShape: 'none' });
    expect(JSON.stringify(await json())).not.toContain('trustedPhoneNumber');
  });

  it('S124: phone entries carry nonFTEU, and verify/phone takes phoneNumber with or without it', async () => {
    await control.setFlags({ phoneNonFTEU: true });
    const challenge = await driver().signIn(sim.appleId, sim.password);
    const body = (await challenge.json()) as { trustedPhoneNumbers: { nonFTEU: boolean }[] };
    expect(body.trustedPhoneNumbers[0]?.nonFTEU).toBe(true);
    const d = await challenged();
    for (const phoneNumber of [{ id: 1 }, { id: 1, nonFTEU: true }]) {
      const res = await d.send(`${sim.authUrl}/verify/phone`, {
        method: 'PUT',
        headers: d.headers({ 'Content-Type': 'application/json; charset=utf-8' }),
        body: { phoneNumber, mode: 'sms' },
      });
      expect(res.status).toBe(200);
    }
  });

  it('a device-less account (noTrustedDevices) says so in its 409 and takes codes by SMS', async () => {
    await control.setFlags({ noTrustedDevices: true });
    const res = await driver().signIn(sim.appleId, sim.password);
    expect(await res.json()).toMatchObject({ noTrustedDevices: true, trustedDevices: [] });
    expect((await smsCodeAccepted()).status).toBe(409);
  });
});

describe('S125-S128: a correct code is answered 409 valid:true', () => {
  it('S125: the device code answer is 409 with securityCode.valid, hsa2, no authType, and new session headers', async () => {
    const d = await challenged();
    const signinToken = d.sessionToken;
    await d.requestCode();
    const res = await d.submitCode((await shownCode())!);
    expect(res.status).toBe(409);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      securityCode: {
        code: expect.stringMatching(/^\d{6}$/),
        tooManyCodesSent: false,
        tooManyCodesValidated: false,
        securityCodeLocked: false,
        securityCodeCooldown: false,
        valid: true,
      },
      authenticationType: 'hsa2',
      hsa2Account: true,
      trustedDeviceCount: 1,
      phoneNumberVerification: expect.any(Object),
    });
    expect(body).not.toHaveProperty('authType');
    for (const h of [
      'x-apple-session-token',
      'scnt',
      'x-apple-auth-attributes',
      'x-apple-id-account-country',
      'x-apple-id-session-id',
    ]) {
      expect(res.headers.get(h), h).toBeTruthy();
    }
    expect(res.headers.get('x-apple-session-token')).not.toBe(signinToken);
    expect(res.headers.get('x-apple-edp')).toBeNull();
    expect(res.headers.get('x-apple-pdp')).toBeNull();
  });

  it('S125: the SMS code answer is 409 with securityCode.valid and a new session token', async () => {
    const res = await smsCodeAccepted();
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ securityCode: { valid: true }, authenticationType: 'hsa2' });
    expect(res.headers.get('x-apple-session-token')).toBeTruthy();
  });

  it('S126 (a)/(b): escrow EDP or PDP adds X-Apple-Edp or X-Apple-PDP to the code answer', async () => {
    await control.setFlags({ escrow: 'EDP' });
    expect((await codeAccepted()).res.headers.get('x-apple-edp')).toBe('true');
    await control.setFlags({ escrow: 'PDP' });
    const { res } = await codeAccepted();
    expect(res.headers.get('x-apple-pdp')).toBe('true');
    expect(res.headers.get('x-apple-edp')).toBeNull();
  });

  it('S126 (d)/S127: codeAnswerWithoutSessionToken keeps valid:true but drops X-Apple-Session-Token', async () => {
    await control.setFlags({ codeAnswerWithoutSessionToken: true });
    const { res } = await codeAccepted();
    expect(res.status).toBe(409);
    expect(res.headers.get('x-apple-session-token')).toBeNull();
    expect(await res.json()).toMatchObject({ securityCode: { valid: true } });
    const sms = await smsCodeAccepted();
    expect(sms.headers.get('x-apple-session-token')).toBeNull();
  });

  it('S128/S126 (d): without a token on the code answer, trust and accountLogin still succeed', async () => {
    await control.setFlags({ codeAnswerWithoutSessionToken: true });
    const { d } = await codeAccepted();
    expect((await d.trust()).status).toBe(204);
    const doc = (await (await d.accountLogin({ trustToken: d.trustToken })).json()) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
  });

  it('S126 (e): codeAnswerTrustToken adds X-Apple-TwoSV-Trust-Token to the code answer', async () => {
    await control.setFlags({ codeAnswerTrustToken: true });
    const { res } = await codeAccepted();
    expect(res.headers.get('x-apple-twosv-trust-token')).toMatch(/^HSARMTKN.*SRVX$/);
  });

  it('S126 (f): codeAnswerStatus 412 answers the accepted code with 412 and the same valid:true body', async () => {
    await control.setFlags({ codeAnswerStatus: 412 });
    const { res } = await codeAccepted();
    expect(res.status).toBe(412);
    expect(await res.json()).toMatchObject({ securityCode: { valid: true } });
  });

  it('S127: a wrong code is never valid:true; wrongCodeStatus 412 keeps the -21669 body', async () => {
    await control.setFlags({ wrongCodeStatus: 412 });
    const d = await challenged();
    await d.requestCode();
    const code = (await shownCode())!;
    const res = await d.submitCode(code === '000000' ? '000001' : '000000');
    expect(res.status).toBe(412);
    const text = await res.text();
    expect(text).toContain('-21669');
    expect(text).not.toContain('"valid"');
  });

  it('S128: after the 409, 2sv/trust answers 204 with a trust token and accountLogin is trusted', async () => {
    const { d } = await codeAccepted();
    const trust = await d.trust();
    expect(trust.status).toBe(204);
    expect(trust.headers.get('x-apple-twosv-trust-token')).toMatch(/^HSARMTKN.*SRVX$/);
    const doc = (await (await d.accountLogin({ trustToken: d.trustToken })).json()) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
  });
});

describe('S134: the three header profiles of 2026', () => {
  const profiles: Record<string, Record<string, string>> = {
    'rclone/ICPS (idmsa Origin, FD-Client-Info, Auth-Attributes echo)': {
      Origin: 'https://idmsa.apple.com',
      Referer: 'https://idmsa.apple.com/',
      'X-Apple-I-FD-Client-Info': JSON.stringify({
        U: 'Mozilla/5.0',
        L: 'en-US',
        Z: 'GMT+00:00',
        V: '1.1',
        F: '',
      }),
      'X-Apple-Auth-Attributes': 'echoed',
      'X-Apple-Offer-Security-Upgrade': '1',
      'X-Apple-OAuth-State': 'auth-2f0a3c1e-8d5b-4b0c-9d41-1c7e8f4a6b21',
      'X-Apple-Frame-Id': 'auth-2f0a3c1e-8d5b-4b0c-9d41-1c7e8f4a6b21',
    },
    'pyicloud (icloud Origin, FD-Client-Info, Auth-Attributes echo)': {
      Origin: 'https://www.icloud.com',
      Referer: 'https://idmsa.apple.com/appleauth/auth/verify/trusteddevice/securitycode',
      'X-Apple-FD-Client-Info': JSON.stringify({
        U: 'Mozilla/5.0',
        L: 'en-US',
        Z: 'GMT+00:00',
        V: '1.1',
        F: '',
      }),
      'X-Apple-Auth-Attributes': 'echoed',
      'X-Apple-OAuth-State': 'c3a8e0f2-9d4b-11ee-8c90-0242ac120002',
    },
    'kei (icloud Origin, neither)': {
      Origin: 'https://www.icloud.com',
      Referer: 'https://www.icloud.com/',
      'X-Apple-OAuth-State': 'd39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d',
    },
  };
  for (const [name, extra] of Object.entries(profiles)) {
    it(`S134: verify/* and 2sv/trust accept the ${name} profile`, async () => {
      const d = await challenged();
      const headers = () => d.headers({ Accept: 'application/json', ...extra });
      const put = await d.send(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
        method: 'PUT',
        headers: headers(),
      });
      expect(put.status).toBe(202);
      const post = await d.send(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
        method: 'POST',
        headers: headers(),
        body: { securityCode: { code: await shownCode() } },
      });
      expect(post.status).toBe(409);
      expect((await d.send(`${sim.authUrl}/2sv/trust`, { method: 'GET', headers: headers() })).status).toBe(
        204,
      );
    });
  }
});

it("S134 (MAY): rejectIdmsaProfileOnVerify refuses the idmsa profile on verify with 400 and lets kei's through", async () => {
  await control.setFlags({ rejectIdmsaProfileOnVerify: true });
  const d = await challenged();
  const idmsaProfile = await d.send(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
    method: 'PUT',
    headers: d.headers({ 'X-Apple-I-FD-Client-Info': '{"U":"x"}' }),
  });
  expect(idmsaProfile.status).toBe(400);
  const keiProfile = await d.send(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
    method: 'PUT',
    headers: d.headers({ Origin: 'https://www.icloud.com', Referer: 'https://www.icloud.com/' }),
  });
  expect(keiProfile.status).toBe(202);
});

describe('S135: security keys', () => {
  it('S135 (i): the 409 carries fsaChallenge (43-char base64url, keyHandles, rpId apple.com) and keyNames', async () => {
    await control.setFlags({ fido: true });
    const body = (await (await driver().signIn(sim.appleId, sim.password)).json()) as Record<string, unknown>;
    expect(body['fsaChallenge']).toMatchObject({
      challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      keyHandles: [expect.stringMatching(/^[A-Za-z0-9_-]+$/)],
    });
    const key = await control.call<{ credentialId: string }>('GET', '/accounts/security-key');
    expect(body['fsaChallenge']).toMatchObject({
      keyHandles: [key.credentialId],
      rpId: 'apple.com',
    });
    expect(body['keyNames']).toEqual([expect.any(String)]);
  });

  it('S135 (ii)/(iii): JSON GET /appleauth/auth has the key set and no phones; the HTML page has no keys', async () => {
    await control.setFlags({ fido: true });
    const d = await challenged();
    const json = (await (
      await d.send(sim.authUrl, { method: 'GET', headers: d.headers({ Accept: 'application/json' }) })
    ).json()) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(
      ['accountName', 'cancelled', 'fsaChallenge', 'keyNames', 'passkeyAutofill', 'requirePrf'].sort(),
    );
    const html = await (
      await d.send(sim.authUrl, { method: 'GET', headers: d.headers({ Accept: 'text/html' }) })
    ).text();
    expect(html).not.toContain('keyNames');
    expect(html).not.toContain('fsaChallenge');
  });

  it('S135: a security-key account gets no code from the PUT trigger nor from PUT verify/phone', async () => {
    await control.setFlags({ fido: true });
    const d = await challenged();
    const before = await shownCode();
    expect((await d.requestCode()).status).toBe(202);
    await d.send(`${sim.authUrl}/verify/phone`, {
      method: 'PUT',
      headers: d.headers(),
      body: { phoneNumber: { id: 1 }, mode: 'sms' },
    });
    expect(await shownCode()).toBe(before);
  });
});

describe('S136: a security-key assertion', () => {
  /** Plays the authenticator with the account's simulated key (`GET /__sim/accounts/security-key`). */
  async function assertion(challenge: string, options: { origin?: string; otherKey?: boolean } = {}) {
    const key = await control.call<{ credentialId: string; privateKeyPem: string }>(
      'GET',
      '/accounts/security-key',
    );
    const signingKey = options.otherKey
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      : createPrivateKey(key.privateKeyPem);
    const clientData = Buffer.from(
      JSON.stringify({
        type: 'webauthn.get',
        challenge,
        origin: options.origin ?? 'https://idmsa.apple.com',
      }),
    );
    const authenticatorData = Buffer.concat([
      createHash('sha256').update('apple.com').digest(),
      Buffer.from([0x01, 0, 0, 0, 7]),
    ]);
    const signature = sign(
      'sha256',
      Buffer.concat([authenticatorData, createHash('sha256').update(clientData).digest()]),
      signingKey,
    );
    // icloudpy's form: the challenge in the standard base64 alphabet, unpadded userHandle "".
    return {
      challenge: challenge.replace(/-/g, '+').replace(/_/g, '/'),
      clientData: clientData.toString('base64'),
      signatureData: signature.toString('base64'),
      authenticatorData: authenticatorData.toString('base64'),
      userHandle: '',
      credentialID: Buffer.from(key.credentialId, 'base64url').toString('base64'),
      rpId: 'apple.com',
      requestId: '',
    };
  }

  async function keyChallenge(): Promise<{ d: SignInDriver; challenge: string }> {
    await control.setFlags({ fido: true });
    const d = driver();
    const res = await d.signIn(sim.appleId, sim.password);
    const body = (await res.json()) as { fsaChallenge: { challenge: string } };
    return { d, challenge: body.fsaChallenge.challenge };
  }

  const submit = (d: SignInDriver, body: unknown) =>
    d.send(`${sim.authUrl}/verify/security/key`, {
      method: 'POST',
      headers: d.headers({ Accept: 'application/json' }),
      body,
    });

  it('S136: a good assertion answers 409, then 2sv/trust gives a trust token and accountLogin is trusted', async () => {
    const { d, challenge } = await keyChallenge();
    const res = await submit(d, await assertion(challenge));
    expect(res.status).toBe(409);
    expect((await d.trust()).status).toBe(204);
    const doc = (await (await d.accountLogin({ trustToken: d.trustToken })).json()) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
  });

  it('S136: the origin https://apple.com (pyicloud) is accepted too', async () => {
    const { d, challenge } = await keyChallenge();
    expect((await submit(d, await assertion(challenge, { origin: 'https://apple.com' }))).status).toBe(409);
  });

  it('S136: a signature by another key, a foreign origin or another challenge answers 400', async () => {
    const { d, challenge } = await keyChallenge();
    expect((await submit(d, await assertion(challenge, { otherKey: true }))).status).toBe(400);
    expect((await submit(d, await assertion(challenge, { origin: 'https://www.icloud.com' }))).status).toBe(
      400,
    );
    expect((await submit(d, await assertion('A'.repeat(43)))).status).toBe(400);
    expect((await d.trust()).status).toBe(401);
  });
});

describe('S137: the bridge shortcut with a made-up push token', () => {
  it('S137: bridge/step/0 answers 200 and shows a code that verify/trusteddevice/securitycode refuses with -21669', async () => {
    const d = await challenged();
    const step = await d.send(`${sim.authUrl}/bridge/step/0`, {
      method: 'POST',
      headers: d.headers({ 'X-Apple-App-Id': '1159', 'X-Apple-Domain-Id': '3' }),
      body: { sessionUUID: `${crypto.randomUUID()}-${Date.now()}`, ptkn: 'ab'.repeat(64) },
    });
    expect(step.status).toBe(200);
    const shown = (await shownCode())!;
    const res = await d.submitCode(shown);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-apple-i-ercd')).toBe('-21669');
  });
});

describe('S145: fault triggers of the 2026 catalogue', () => {
  it('the sign-in switches are parsed strictly: an unknown value is a 400 naming the flag', async () => {
    await expect(control.setFlags({ authFlow: '2024' })).rejects.toMatchObject({
      status: 400,
      body: expect.stringContaining('authFlow'),
    });
    await expect(control.setFlags({ escrow: 'ADP' })).rejects.toMatchObject({ status: 400 });
  });

  it('S145: the PUT trigger answers 429 with Retry-After (method-narrowed fault), then works', async () => {
    await control.injectFault({
      endpoint: 'verify/trusteddevice/securitycode',
      method: 'PUT',
      status: 429,
      retryAfter: 7,
      count: 1,
    });
    const d = await challenged();
    const throttled = await d.requestCode();
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect((await d.requestCode()).status).toBe(202);
    expect((await d.submitCode((await shownCode())!)).status).toBe(409);
  });

  it('S145: PUT verify/phone answers 412 by a fault, while the code submit is untouched', async () => {
    await control.injectFault({ endpoint: 'verify/phone', method: 'PUT', status: 412, count: 1 });
    const d = await challenged();
    const res = await d.send(`${sim.authUrl}/verify/phone`, {
      method: 'PUT',
      headers: d.headers(),
      body: { phoneNumber: { id: 1 }, mode: 'sms' },
    });
    expect(res.status).toBe(412);
  });

  it('S145: the strict header switch still rejects what Apple accepts, for tests that want it', async () => {
    await control.settings({ strictIdmsaHeaders: true });
    const d = await challenged();
    const res = await fetch(`${sim.authUrl}/verify/trusteddevice/securitycode`, {
      method: 'PUT',
      headers: idmsaHeaders({ 'X-Apple-ID-Session-Id': d.sessionToken! }),
    });
    expect(res.status).toBe(401);
  });
});

describe('S146: the per-account log of sign-in steps', () => {
  it('S146: lists the steps in order and says which 2026 steps were performed', async () => {
    await control.call('DELETE', '/accounts/steps');
    const { d } = await codeAccepted();
    await d.trust();
    await d.accountLogin({ trustToken: d.trustToken });
    const log = await control.call<{
      performed: Record<string, boolean>;
      steps: { step: string; status: number }[];
    }>('GET', `/accounts/steps?appleId=${encodeURIComponent(sim.appleId)}`);
    expect(log.steps.map((s) => `${s.step} ${s.status}`)).toEqual([
      'signin-init 200',
      'signin-complete 409',
      'push-trigger 202',
      'code-accepted 409',
      'trust 204',
      'account-login 200',
    ]);
    expect(log.performed).toEqual({
      pushTrigger: true,
      codeAccepted409: true,
      escrow: false,
      trust: true,
      keyAssertion: false,
    });
  });
});
