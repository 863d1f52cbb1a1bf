import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readAccountDocument } from '#adapters/icloud/auth/account-document.ts';
import { appleErrorsOf } from '#adapters/icloud/auth/apple-signals.ts';
import { normalizeCode } from '#adapters/icloud/auth/two-factor.ts';
import {
  challengeBodyFromBootHtml,
  twoFactorChallengeOf,
} from '#adapters/icloud/auth/two-factor-challenge.ts';
import { rewriteForSimulator } from '#adapters/icloud/endpoints.ts';
import { AccountConditionError, InvalidInputError } from '#domain/errors.ts';
import { recordedPath } from '#test/helpers/recorded.ts';

interface Interaction {
  request: { method: string; uri: string };
  response: { status: number; body: { json?: unknown; text?: string } };
}
function cassette(name: string): Interaction[] {
  const path = recordedPath('icloudpd', `${name}.json`);
  return (JSON.parse(readFileSync(path, 'utf8')) as { interactions: Interaction[] }).interactions;
}
const find = (name: string, path: string, nth = 0) =>
  cassette(name).filter((i) => new URL(i.request.uri).pathname.endsWith(path))[nth]!.response;

function conditionOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof AccountConditionError) return error.condition;
    throw error;
  }
  return undefined;
}

describe('account document (recorded accountLogin answers)', () => {
  it('asks for two-factor after the first accountLogin of a 2FA account', () => {
    const account = readAccountDocument(find('2fa_flow_valid_code', '/accountLogin', 0).body.json);
    expect(account).toMatchObject({ dsid: '12345678901', requiresTwoFactor: true, hsaVersion: 2 });
    expect(account.ckdatabasewsUrl).toMatch(/^https:\/\/p\d+-ckdatabasews\.icloud\.com:443$/);
  });

  it('is trusted after the second accountLogin', () => {
    expect(
      readAccountDocument(find('2fa_flow_valid_code', '/accountLogin', 1).body.json).requiresTwoFactor,
    ).toBe(false);
  });

  it('treats absent two-factor flags as no challenge (account without 2FA)', () => {
    expect(readAccountDocument(find('auth_non_2fa', '/accountLogin').body.json).requiresTwoFactor).toBe(
      false,
    );
  });

  const base = find('2fa_flow_valid_code', '/accountLogin', 1).body.json as Record<string, unknown>;
  const dsInfo = base['dsInfo'] as Record<string, unknown>;
  const cases: [string, Record<string, unknown>, string][] = [
    ['Advanced Data Protection', { iCDPEnabled: true }, 'advanced-data-protection'],
    ['web access off', { dsInfo: { ...dsInfo, isWebAccessAllowed: false } }, 'web-access-off'],
    ['terms to accept', { termsUpdateNeeded: true }, 'terms-not-accepted'],
    ['China region', { domainToUse: 'iCloud.com.cn' }, 'wrong-region'],
  ];
  for (const [what, patch, condition] of cases) {
    it(`explains ${what} as the ${condition} condition`, () => {
      expect(conditionOf(() => readAccountDocument({ ...base, ...patch }))).toBe(condition);
    });
  }

  it('names the endpoint to use for a China account', () => {
    expect(() => readAccountDocument({ ...base, domainToUse: 'iCloud.com.cn' })).toThrow(
      /--endpoint apple-cn/,
    );
  });
});

describe('Apple error signals', () => {
  it('reads the wrong-password serviceErrors of signin/complete', () => {
    expect(appleErrorsOf(find('failed_auth', '/signin/complete').body.json)).toEqual([
      { code: '-20101', message: 'Enter the email or phone number and password for your Apple Account.' },
    ]);
  });

  it('reads the wrong-code service_errors of verify', () => {
    const body = find('2fa_flow_invalid_code', '/securitycode').body.json;
    expect(appleErrorsOf(body).map((e) => e.code)).toEqual(['-21669']);
  });

  it('reads setup-style success:false bodies', () => {
    expect(appleErrorsOf({ success: false, error: 'Missing X-APPLE-WEBAUTH-TOKEN cookie' })).toEqual([
      { message: 'Missing X-APPLE-WEBAUTH-TOKEN cookie' },
    ]);
  });

  it('finds nothing in a normal body', () => {
    expect(appleErrorsOf({ dsInfo: {} })).toEqual([]);
  });
});

describe('two-factor challenge', () => {
  it('reads trusted numbers from the recorded HTML boot data', () => {
    const html = find('2fa_flow_valid_code', '/appleauth/auth').body.text!;
    const challenge = twoFactorChallengeOf(challengeBodyFromBootHtml(html));
    expect(challenge.trustedPhoneNumbers[0]).toMatchObject({ id: 1 });
    expect(challenge.trustedPhoneNumbers[0]?.numberWithDialCode).toContain('81');
    expect(challenge.codeLength).toBe(6);
  });

  it('reads a 409 body', () => {
    const challenge = twoFactorChallengeOf({
      authType: 'hsa2',
      trustedDevices: [{ id: 'd1' }],
      trustedPhoneNumbers: [{ id: 1, numberWithDialCode: '+1 •••-•••-1234' }],
      securityCode: { length: 6 },
    });
    expect(challenge).toEqual({
      hasTrustedDevices: true,
      trustedPhoneNumbers: [{ id: 1, numberWithDialCode: '+1 •••-•••-1234' }],
      codeLength: 6,
    });
  });

  it('explains a security-key account', () => {
    expect(
      conditionOf(() => twoFactorChallengeOf({ fsaChallenge: { challenge: 'x' }, keyNames: ['YubiKey'] })),
    ).toBe('security-key');
  });

  it('explains a locked account and too many codes', () => {
    expect(conditionOf(() => twoFactorChallengeOf({ securityCode: { securityCodeLocked: true } }))).toBe(
      'locked',
    );
    expect(conditionOf(() => twoFactorChallengeOf({ securityCode: { tooManyCodesSent: true } }))).toBe(
      'too-many-codes',
    );
  });
});

describe('verification code input', () => {
  it('keeps leading zeros and strips spaces and dashes', () => {
    expect(normalizeCode(' 012-345 ')).toBe('012345');
  });

  it('refuses anything but six digits', () => {
    expect(() => normalizeCode('12345')).toThrow(InvalidInputError);
    expect(() => normalizeCode('12345a')).toThrow(InvalidInputError);
  });
});

describe('simulator URL rewrite', () => {
  it('moves an Apple URL under the simulator base with the host as first segment', () => {
    expect(
      rewriteForSimulator(
        'https://p61-ckdatabasews.icloud.com:443/database/1/x?dsid=1',
        'http://127.0.0.1:9/',
      ),
    ).toBe('http://127.0.0.1:9/p61-ckdatabasews.icloud.com/database/1/x?dsid=1');
  });

  it('leaves other URLs alone', () => {
    expect(rewriteForSimulator('https://example.com/a', 'http://127.0.0.1:9')).toBe('https://example.com/a');
  });
});
