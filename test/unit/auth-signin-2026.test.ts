/**
 * Sign-in against a scripted Apple that answers the way Apple does since 2026
 * (docs/protocol/sign-in.md): a correct code answered 409 `valid: true`, sometimes without a
 * session token, escrow after EDP/PDP, trusted numbers in new places, security keys. Each test
 * checks the requests the client sent, in order, and that it asked for one code only.
 */
import { describe, expect, it } from 'vitest';
import type { SignInResult } from '#adapters/icloud/auth/authenticator.ts';
import { type CodeDelivery, WrongVerificationCodeError } from '#adapters/icloud/auth/two-factor.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { IcloudSession } from '#adapters/icloud/session/icloud-session.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { serializeSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { AccountConditionError } from '#domain/errors.ts';
import { createLogger } from '#shared/logger.ts';
import { Secret } from '#shared/redact.ts';
import { InMemorySessionStore } from '#test/fakes/in-memory-session-store.ts';
import {
  idmsaHeaders,
  type ScriptedAnswer,
  ScriptedApple,
  type ScriptedRequest,
  ScriptedSrp,
} from '#test/fakes/scripted-apple.ts';

const APPLE_ID = 'person@example.com';
const PASSWORD = 'correct horse battery staple';
const CODE = '012345';
const logger = createLogger({ level: 'SILENT' });

const phone = { id: 1, numberWithDialCode: '+1 (•••) •••-••81', nonFTEU: true };
const challenge409 = {
  authType: 'hsa2',
  trustedDevices: [{ id: 'd1' }],
  trustedPhoneNumbers: [phone],
  securityCode: { length: 6 },
};
const validCode = {
  securityCode: {
    code: CODE,
    tooManyCodesSent: false,
    tooManyCodesValidated: false,
    securityCodeLocked: false,
    securityCodeCooldown: false,
    valid: true,
  },
  authenticationType: 'hsa2',
  hsa2Account: true,
};
const wrongCode: ScriptedAnswer = {
  status: 400,
  headers: idmsaHeaders({ 'X-Apple-I-Ercd': '-21669' }),
  json: {
    service_errors: [
      { code: '-21669', title: 'Incorrect Verification Code', message: 'Incorrect verification code.' },
    ],
    hasError: true,
  },
};

function accountDocument(trusted: boolean) {
  return {
    dsInfo: { dsid: '12345678901', hsaVersion: 2, hasICloudQualifyingDevice: true, isWebAccessAllowed: true },
    hsaChallengeRequired: !trusted,
    hsaTrustedBrowser: trusted,
    webservices: { ckdatabasews: { url: 'https://p61-ckdatabasews.icloud.com:443', status: 'active' } },
  };
}

/** An Apple that signs the person in with SRP and needs two-factor until `/2sv/trust` ran. */
function scriptedApple(options: { signinComplete?: (r: ScriptedRequest) => ScriptedAnswer } = {}) {
  const apple = new ScriptedApple();
  const srp = new ScriptedSrp(PASSWORD);
  let trusted = false;
  apple
    .on('POST signin/init', srp.init)
    .on('POST signin/complete', (r) => {
      if (!srp.proves(r.body, APPLE_ID)) return { status: 401, headers: idmsaHeaders(), json: {} };
      return (
        options.signinComplete?.(r) ?? {
          status: 409,
          headers: idmsaHeaders({
            'X-Apple-Session-Token': 'token-signin',
            'X-Apple-TwoSV-Trust-Eligible': 'true',
          }),
          json: challenge409,
        }
      );
    })
    .on('POST accountLogin', () => ({ status: 200, json: accountDocument(trusted) }))
    .on('PUT verify/trusteddevice/securitycode', { status: 202, headers: idmsaHeaders() })
    .on('GET 2sv/trust', () => {
      trusted = true;
      return {
        status: 204,
        headers: idmsaHeaders({
          'X-Apple-TwoSV-Trust-Token': 'HSARMTKNSRVWtrustSRVX',
          'X-Apple-Session-Token': 'token-trusted',
        }),
      };
    })
    .on('POST escrow/init', srp.init)
    .on('POST escrow/complete', (r) =>
      srp.proves(r.body, '')
        ? { status: 200, headers: idmsaHeaders({ 'X-Apple-Session-Token': 'token-escrow' }), json: {} }
        : { status: 401, headers: idmsaHeaders(), json: {} },
    );
  return { apple, markTrusted: () => (trusted = true) };
}

async function start(apple: ScriptedApple, store = new InMemorySessionStore()) {
  const endpoint = await resolveEndpoint('apple');
  const login = await beginLogin({ endpoint, store, appleId: APPLE_ID, logger, fetch: apple.fetch });
  const authenticator = await login.startSignIn();
  return { login, authenticator };
}

/** A store holding a session with a trust token from an earlier login. */
async function storeWithTrustToken(): Promise<InMemorySessionStore> {
  const session = IcloudSession.create({ appleId: APPLE_ID, endpoint: 'apple', now: Date.now() });
  session.update({ trustToken: 'HSARMTKNSRVWoldSRVX', trustTokenIssuedAt: Date.now() });
  return new InMemorySessionStore(serializeSessionDocument(await session.toDocument(Date.now())));
}

async function signInWithCode(apple: ScriptedApple, delivery: CodeDelivery = { kind: 'device' }) {
  const { login, authenticator } = await start(apple);
  const result = await authenticator.signIn(new Secret(PASSWORD));
  expect(result.status).toBe('two-factor');
  await authenticator.requestCode(delivery);
  const account = await authenticator.verifyCode(delivery, CODE);
  return { login, account, result };
}

const codeAnswer = (headers: Record<string, string>, status = 409): ScriptedAnswer => ({
  status,
  headers: idmsaHeaders(headers),
  json: validCode,
});

describe('a correct code answered 409 valid:true (Apple 2026)', () => {
  it('signs in and trusts the session after the device code', async () => {
    const { apple } = scriptedApple();
    apple.on('POST verify/trusteddevice/securitycode', codeAnswer({ 'X-Apple-Session-Token': 'token-code' }));
    const { account, login } = await signInWithCode(apple);
    expect(account.requiresTwoFactor).toBe(false);
    expect(login.session.fields.trustToken).toBe('HSARMTKNSRVWtrustSRVX');
    expect(apple.calls).toEqual([
      'POST signin/init',
      'POST signin/complete',
      'POST accountLogin',
      'PUT verify/trusteddevice/securitycode',
      'POST verify/trusteddevice/securitycode',
      'GET 2sv/trust',
      'POST accountLogin',
    ]);
  });

  it('still ends trusted when the 409 carries no session token', async () => {
    const { apple } = scriptedApple();
    apple.on('POST verify/trusteddevice/securitycode', codeAnswer({}));
    const { account } = await signInWithCode(apple);
    expect(account.requiresTwoFactor).toBe(false);
    expect(apple.calls.slice(4)).toEqual([
      'POST verify/trusteddevice/securitycode',
      'GET 2sv/trust',
      'POST accountLogin',
    ]);
  });

  it('accepts the 412 with valid:true seen in 2024', async () => {
    const { apple } = scriptedApple();
    apple.on('POST verify/trusteddevice/securitycode', codeAnswer({ 'X-Apple-Session-Token': 't' }, 412));
    await expect(signInWithCode(apple)).resolves.toMatchObject({ account: { requiresTwoFactor: false } });
  });

  it('refuses a 409 whose body does not say valid:true', async () => {
    const { apple } = scriptedApple();
    apple.on('POST verify/trusteddevice/securitycode', {
      status: 409,
      headers: idmsaHeaders({ 'X-Apple-Session-Token': 't' }),
      json: { securityCode: { code: CODE, valid: false } },
    });
    await expect(signInWithCode(apple)).rejects.toThrow(AccountConditionError);
    expect(apple.count('GET 2sv/trust')).toBe(0);
  });

  it('takes a 400 -21669 and a 412 carrying -21669 as a wrong code, without a new push', async () => {
    for (const status of [400, 412]) {
      const { apple } = scriptedApple();
      apple.on('POST verify/trusteddevice/securitycode', { ...wrongCode, status }, codeAnswer({}));
      const { authenticator } = await start(apple);
      await authenticator.signIn(new Secret(PASSWORD));
      await authenticator.requestCode({ kind: 'device' });
      await expect(authenticator.verifyCode({ kind: 'device' }, '999999')).rejects.toThrow(
        WrongVerificationCodeError,
      );
      await expect(authenticator.verifyCode({ kind: 'device' }, CODE)).resolves.toMatchObject({
        requiresTwoFactor: false,
      });
      expect(apple.count('PUT verify/trusteddevice/securitycode')).toBe(1);
    }
  });

  it('signs in by SMS, echoing nonFTEU on the request and the submission', async () => {
    const { apple } = scriptedApple();
    apple
      .on('PUT verify/phone', { status: 200, headers: idmsaHeaders(), json: { trustedPhoneNumber: phone } })
      .on('POST verify/phone/securitycode', codeAnswer({ 'X-Apple-Session-Token': 'token-sms' }));
    const delivery: CodeDelivery = { kind: 'sms', phoneId: 1, nonFTEU: true };
    const { result } = await signInWithCode(apple, delivery);
    expect(result.status === 'two-factor' && result.challenge.trustedPhoneNumbers).toEqual([phone]);
    const put = apple.requests.find((r) => r.route === 'PUT verify/phone');
    expect(put?.body).toEqual({ phoneNumber: { id: 1, nonFTEU: true }, mode: 'sms' });
    const post = apple.requests.find((r) => r.route === 'POST verify/phone/securitycode');
    expect(post?.body).toEqual({
      phoneNumber: { id: 1, nonFTEU: true },
      securityCode: { code: CODE },
      mode: 'sms',
    });
    expect(apple.count('PUT verify/trusteddevice/securitycode')).toBe(0);
  });

  it('sends no nonFTEU when the phone entry carried none', async () => {
    const { apple } = scriptedApple();
    apple
      .on('PUT verify/phone', { status: 200, headers: idmsaHeaders(), json: {} })
      .on('POST verify/phone/securitycode', {
        status: 200,
        headers: idmsaHeaders({ 'X-Apple-Session-Token': 't' }),
        json: {},
      });
    await signInWithCode(apple, { kind: 'sms', phoneId: 1 });
    expect(apple.requests.find((r) => r.route === 'PUT verify/phone')?.body).toEqual({
      phoneNumber: { id: 1 },
      mode: 'sms',
    });
  });
});

describe('headers on verify and trust', () => {
  it('sends the icloud.com Origin without the browser extras on verify/* and 2sv/trust, the idmsa Origin on signin/*', async () => {
    const { apple } = scriptedApple();
    apple.on('POST verify/trusteddevice/securitycode', codeAnswer({}));
    await signInWithCode(apple);
    const originOf = (route: string) => apple.requests.find((r) => r.route === route)?.headers.get('origin');
    for (const route of [
      'PUT verify/trusteddevice/securitycode',
      'POST verify/trusteddevice/securitycode',
      'GET 2sv/trust',
    ]) {
      expect(originOf(route), route).toBe('https://www.icloud.com');
      const headers = apple.requests.find((r) => r.route === route)?.headers;
      expect(headers?.has('x-apple-i-fd-client-info') || headers?.has('x-apple-auth-attributes')).toBe(false);
    }
    expect(originOf('POST signin/complete')).toBe('https://idmsa.apple.com');
  });
});

describe('one code per sign-in', () => {
  it('asks Apple for a code once, however often the caller asks', async () => {
    const { apple } = scriptedApple();
    apple.on('POST verify/trusteddevice/securitycode', codeAnswer({}));
    const { authenticator } = await start(apple);
    await authenticator.signIn(new Secret(PASSWORD));
    await authenticator.requestCode({ kind: 'device' });
    await authenticator.requestCode({ kind: 'device' });
    expect(apple.count('PUT verify/trusteddevice/securitycode')).toBe(1);
  });

  it('waits out one 429 on the trigger (it sent nothing) and asks once more', async () => {
    const { apple } = scriptedApple();
    apple.on(
      'PUT verify/trusteddevice/securitycode',
      { status: 429, headers: idmsaHeaders({ 'Retry-After': '0' }) },
      { status: 202, headers: idmsaHeaders() },
    );
    apple.on('POST verify/trusteddevice/securitycode', codeAnswer({}));
    await signInWithCode(apple);
    expect(apple.count('PUT verify/trusteddevice/securitycode')).toBe(2);
  });
});

describe('escrow (X-Apple-Edp / X-Apple-Pdp)', () => {
  for (const header of ['X-Apple-Edp', 'X-Apple-PDP']) {
    it(`completes the escrow with an empty account name after the code (${header})`, async () => {
      const { apple } = scriptedApple();
      apple.on(
        'POST verify/trusteddevice/securitycode',
        codeAnswer({ 'X-Apple-Session-Token': 'token-code', [header]: 'true' }),
      );
      const { account, login } = await signInWithCode(apple);
      expect(account.requiresTwoFactor).toBe(false);
      expect(apple.calls.slice(4)).toEqual([
        'POST verify/trusteddevice/securitycode',
        'POST escrow/init',
        'POST escrow/complete',
        'GET 2sv/trust',
        'POST accountLogin',
      ]);
      expect(apple.requests.find((r) => r.route === 'POST escrow/init')?.body).toMatchObject({
        accountName: '',
        protocols: ['s2k', 's2k_fo'],
      });
      expect(login.session.fields.trustToken).toBe('HSARMTKNSRVWtrustSRVX');
    });
  }

  it('escrows instead of asking for a code when a trust token is answered 409 + EDP', async () => {
    const { apple, markTrusted } = scriptedApple({
      signinComplete: () => ({
        status: 409,
        headers: idmsaHeaders({ 'X-Apple-Session-Token': 'token-signin', 'X-Apple-Edp': 'true' }),
        json: { authType: 'hsa2' },
      }),
    });
    apple.on('POST escrow/complete', (r) => {
      markTrusted();
      return {
        status: 200,
        headers: idmsaHeaders({ 'X-Apple-Session-Token': 'token-escrow' }),
        json: { m1: r.body },
      };
    });
    const { authenticator } = await start(apple, await storeWithTrustToken());
    const result: SignInResult = await authenticator.signIn(new Secret(PASSWORD));
    expect(result.status).toBe('signed-in');
    expect(apple.calls).toEqual([
      'POST signin/init',
      'POST signin/complete',
      'POST escrow/init',
      'POST escrow/complete',
      'POST accountLogin',
    ]);
    expect(apple.requests.find((r) => r.route === 'POST accountLogin')?.body).toMatchObject({
      dsWebAuthToken: 'token-escrow',
    });
  });

  it('goes to two-factor, not escrow, when EDP comes without a trust token sent', async () => {
    const { apple } = scriptedApple({
      signinComplete: () => ({
        status: 409,
        headers: idmsaHeaders({ 'X-Apple-Session-Token': 'token-signin', 'X-Apple-Edp': 'true' }),
        json: challenge409,
      }),
    });
    const { authenticator } = await start(apple);
    expect((await authenticator.signIn(new Secret(PASSWORD))).status).toBe('two-factor');
    expect(apple.count('POST escrow/init')).toBe(0);
  });

  it('fails with Apple refusing the escrow when the proof is refused', async () => {
    const { apple } = scriptedApple();
    apple
      .on('POST verify/trusteddevice/securitycode', codeAnswer({ 'X-Apple-Edp': 'true' }))
      .on('POST escrow/complete', { status: 401, headers: idmsaHeaders(), json: {} });
    await expect(signInWithCode(apple)).rejects.toThrow(/escrow\/complete/);
    expect(apple.count('GET 2sv/trust')).toBe(0);
  });
});

describe('where the trusted numbers are', () => {
  const bootHtml = (twoSV: unknown) =>
    `<html><script type="application/json" class="boot_args">${JSON.stringify({
      direct: { authInitialRoute: 'auth/bridge/step', hasTrustedDevices: true, twoSV },
    })}</script></html>`;
  const without = {
    status: 409,
    headers: idmsaHeaders({ 'X-Apple-Session-Token': 't' }),
    json: { authType: 'hsa2' },
  };

  async function phonesWith(json: unknown, html?: string) {
    const { apple } = scriptedApple({ signinComplete: () => without });
    apple.on('GET auth', (r) =>
      (r.headers.get('accept') ?? '').includes('json') || html === undefined
        ? { status: 200, headers: idmsaHeaders(), json }
        : { status: 200, headers: idmsaHeaders({ 'content-type': 'text/html' }), text: html },
    );
    const { authenticator } = await start(apple);
    const result = await authenticator.signIn(new Secret(PASSWORD));
    return { phones: result.status === 'two-factor' ? result.challenge.trustedPhoneNumbers : [], apple };
  }

  it('reads bridgeInitiateData.phoneNumberVerification of the HTML boot data after an empty JSON', async () => {
    const { phones, apple } = await phonesWith(
      { trustedDeviceCount: 1 },
      bootHtml({
        phoneNumberVerification: { trustedPhoneNumbers: [] },
        bridgeInitiateData: {
          apnsTopic: 'com.apple.idmsauthwidget',
          phoneNumberVerification: {
            trustedPhoneNumbers: [{ id: 3, numberWithDialCode: '+49 ••• ••• ••12', nonFTEU: false }],
            trustedPhoneNumber: { id: 3, nonFTEU: false, pushMode: 'sms' },
          },
        },
      }),
    );
    expect(phones).toEqual([{ id: 3, numberWithDialCode: '+49 ••• ••• ••12', nonFTEU: false }]);
    expect(apple.count('GET auth')).toBe(2);
  });

  it('reads a singular trustedPhoneNumber in the bridge data', async () => {
    const { phones } = await phonesWith(
      {},
      bootHtml({
        bridgeInitiateData: { phoneNumberVerification: { trustedPhoneNumber: { id: 3, nonFTEU: false } } },
      }),
    );
    expect(phones).toEqual([{ id: 3, numberWithDialCode: 'trusted number 3', nonFTEU: false }]);
  });

  it('reads the JSON phoneNumberVerification envelope without asking for HTML', async () => {
    const { phones, apple } = await phonesWith({ phoneNumberVerification: { trustedPhoneNumbers: [phone] } });
    expect(phones).toEqual([phone]);
    expect(apple.count('GET auth')).toBe(1);
  });

  it('reads a JSON bridgeInitiateData and a top-level singular trustedPhoneNumber', async () => {
    expect(
      (
        await phonesWith({
          bridgeInitiateData: { phoneNumberVerification: { trustedPhoneNumbers: [phone] } },
        })
      ).phones,
    ).toEqual([phone]);
    expect((await phonesWith({ trustedPhoneNumber: { id: 2, lastTwoDigits: '07' } })).phones).toEqual([
      { id: 2, numberWithDialCode: 'number ending 07' },
    ]);
  });
});

describe('security keys', () => {
  it('stops before any code with a message naming the keys', async () => {
    const { apple } = scriptedApple({
      signinComplete: () => ({
        status: 409,
        headers: idmsaHeaders({ 'X-Apple-Session-Token': 't' }),
        json: {
          ...challenge409,
          fsaChallenge: { challenge: 'Y2hhbGxlbmdl', keyHandles: ['aGFuZGxl'], rpId: 'apple.com' },
          keyNames: ['YubiKey 5C', 'Backup key'],
        },
      }),
    });
    const { authenticator } = await start(apple);
    const error = await authenticator.signIn(new Secret(PASSWORD)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccountConditionError);
    expect((error as AccountConditionError).condition).toBe('security-key');
    expect((error as Error).message).toContain('"YubiKey 5C", "Backup key"');
    expect((error as Error).message).toMatch(/remove the keys .* run icloud-s3 login again\.$/);
    expect(apple.calls.some((c) => c.startsWith('PUT verify'))).toBe(false);
  });
});
