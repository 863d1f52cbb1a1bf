/** Two-factor response bodies (docs/protocol/sign-in.md#signin-complete challenge, docs/protocol/sign-in.md#two-factor-options boot data, docs/protocol/sign-in.md#requesting-a-code phone verification). */
import { randomBytes } from 'node:crypto';
import type { AccountRecord } from '../accounts/account.ts';
import type { AuthContext } from './context.ts';
import { securityKeyOf } from './security-key.ts';

const DOT = '\u2022';

/** A trusted phone as Apple lists it; `nonFTEU` is echoed back by some clients (S124). */
function phoneEntry(account: AccountRecord, p: { id: number; lastTwoDigits: string }) {
  const obfuscated = `(${DOT.repeat(3)}) ${DOT.repeat(3)}-${DOT.repeat(2)}${p.lastTwoDigits}`;
  return {
    id: p.id,
    numberWithDialCode: `+1 ${obfuscated}`,
    obfuscatedNumber: obfuscated,
    pushMode: 'sms',
    lastTwoDigits: p.lastTwoDigits,
    nonFTEU: account.flags.phoneNonFTEU,
  };
}

/** The trusted devices a challenge lists: none with the `noTrustedDevices` flag. */
const trustedDevicesOf = (account: AccountRecord) =>
  account.flags.noTrustedDevices ? [] : account.trustedDevices;

export function securityCodeState(ctx: AuthContext, account: AccountRecord) {
  return {
    length: 6,
    tooManyCodesSent: ctx.idmsa.tooManyCodesSent(account),
    tooManyCodesValidated: false,
    securityCodeLocked: ctx.idmsa.securityCodeLocked(account),
    securityCodeCooldown: false,
  };
}

/** `phoneNumberVerification` as in the boot data and the `verify/phone` answer. */
export function phoneNumberVerification(ctx: AuthContext, account: AccountRecord, phoneId?: number) {
  const phones = account.trustedPhones.map((p) => phoneEntry(account, p));
  const chosen = phones.find((p) => p.id === phoneId) ?? phones[0];
  return {
    trustedPhoneNumbers: phones,
    ...(chosen ? { trustedPhoneNumber: chosen } : {}),
    securityCode: securityCodeState(ctx, account),
    authenticationType: 'hsa2',
    hsa2Account: true,
    restrictedAccount: false,
    managedAccount: false,
  };
}

/** The security-key challenge of a 409 (S135): 43-character base64url challenge, key handles, `rpId`. */
export const fsaChallenge = (challenge: string, keyHandle: string) => ({
  challenge,
  keyHandles: [keyHandle],
  rpId: 'apple.com',
});
export const KEY_NAMES = ['YubiKey 5C'];

/** The 409 body of signin/complete; with security keys it also carries `fsaChallenge` and `keyNames`. */
export function challengeBody(ctx: AuthContext, account: AccountRecord, challenge: string | undefined) {
  const devices = trustedDevicesOf(account);
  return {
    authType: 'hsa2',
    trustedDevices: devices.map((d) => ({ id: d.id, name: d.name, modelName: 'iPhone' })),
    trustedPhoneNumbers: account.trustedPhones.map((p) => phoneEntry(account, p)),
    securityCode: securityCodeState(ctx, account),
    noTrustedDevices: devices.length === 0,
    ...(account.flags.fido && challenge !== undefined
      ? {
          fsaChallenge: fsaChallenge(challenge, securityKeyOf(ctx, account).credentialId),
          keyNames: KEY_NAMES,
        }
      : {}),
  };
}

/**
 * `GET /appleauth/auth` JSON form. Phones at the top level (icloud-photos-sync), inside a
 * `phoneNumberVerification` envelope, or absent (`authJsonShape`, S123); a security-key account
 * answers the key set of S135 instead, with no phones.
 */
export function authInfoJson(ctx: AuthContext, account: AccountRecord, challenge: string | undefined) {
  if (account.flags.fido) {
    return {
      accountName: account.appleId,
      cancelled: false,
      fsaChallenge: fsaChallenge(
        challenge ?? randomBytes(32).toString('base64url'),
        securityKeyOf(ctx, account).credentialId,
      ),
      keyNames: KEY_NAMES,
      passkeyAutofill: false,
      requirePrf: false,
    };
  }
  const common = {
    trustedDeviceCount: trustedDevicesOf(account).length,
    mode: 'sms',
    type: 'verification',
  };
  switch (account.flags.authJsonShape) {
    case 'envelope':
      return { ...common, phoneNumberVerification: phoneNumberVerification(ctx, account) };
    case 'none':
      return { ...common, securityCode: securityCodeState(ctx, account), authenticationType: 'hsa2' };
    default:
      return {
        ...phoneNumberVerification(ctx, account),
        ...common,
        noTrustedDevices: trustedDevicesOf(account).length === 0,
      };
  }
}

/**
 * The answer to a correct code in the 2026 flow (S125): `securityCode.valid: true`,
 * `authenticationType`/`hsa2Account`, never `authType`; device answers add `trustedDeviceCount` and
 * `phoneNumberVerification`.
 */
export function codeAcceptedBody(
  ctx: AuthContext,
  account: AccountRecord,
  via: 'device' | 'phone',
  code: string,
  phoneId?: number,
) {
  const securityCode = {
    code,
    tooManyCodesSent: false,
    tooManyCodesValidated: false,
    securityCodeLocked: false,
    securityCodeCooldown: false,
    valid: true,
  };
  if (via === 'phone') {
    const { securityCode: _state, ...verification } = phoneNumberVerification(ctx, account, phoneId);
    return { ...verification, securityCode, mode: 'sms' };
  }
  return {
    trustedDeviceCount: trustedDevicesOf(account).length,
    otherTrustedDeviceClass: 'iPhone',
    securityCode,
    phoneNumberVerification: phoneNumberVerification(ctx, account),
    authenticationType: 'hsa2',
    hsa2Account: true,
  };
}

/** `GET /appleauth/auth` HTML form: the `boot_args` script of the recorded page. */
export function bootArgsPage(ctx: AuthContext, account: AccountRecord): string {
  const boot = account.flags.bridgeRouted ? bridgeBootArgs(ctx, account) : classicBootArgs(ctx, account);
  return `<script type="application/json" class="boot_args">${JSON.stringify(boot)}</script>`;
}

/**
 * The boot_args of a bridge-routed account (S122): `authInitialRoute: "auth/bridge/step"`, the
 * phones only under `twoSV.bridgeInitiateData.phoneNumberVerification`, and an empty list at the old
 * place.
 */
function bridgeBootArgs(ctx: AuthContext, account: AccountRecord) {
  const classic = classicBootArgs(ctx, account);
  const verification = phoneNumberVerification(ctx, account);
  return {
    ...classic,
    direct: {
      ...classic.direct,
      authInitialRoute: 'auth/bridge/step',
      hasTrustedDevices: true,
      twoSV: {
        ...classic.direct.twoSV,
        // The old place keeps its other keys but lists no phone (icloudpd PR #1325's capture).
        phoneNumberVerification: withoutPhones(classic.direct.twoSV.phoneNumberVerification),
        authFactors: ['web_piggybacking', 'robocall', 'sms', 'generatedcode'],
        bridgeInitiateData: {
          apnsTopic: 'com.apple.idmsauthwidget',
          apnsEnvironment: 'prod',
          webSocketUrl: 'websocket.push.apple.com',
          phoneNumberVerification: {
            trustedPhoneNumbers: verification.trustedPhoneNumbers,
            ...(verification.trustedPhoneNumber
              ? { trustedPhoneNumber: verification.trustedPhoneNumber }
              : {}),
          },
        },
      },
    },
  };
}

function withoutPhones<T extends { trustedPhoneNumber?: unknown }>(v: T) {
  const { trustedPhoneNumber: _chosen, ...rest } = v;
  return { ...rest, trustedPhoneNumbers: [] };
}

/** The boot_args of the recorded page (`authInitialRoute: "auth/verify/phone"`). */
function classicBootArgs(ctx: AuthContext, account: AccountRecord) {
  const { trustedPhoneNumber: _chosen, ...verification } = phoneNumberVerification(ctx, account);
  const chosen = verification.trustedPhoneNumbers[0];
  return {
    direct: {
      scriptSk7Url: 'https://appleid.cdn-apple.com/appleauth/static/module-assets/home.js',
      scriptUrl: 'https://appleid.cdn-apple.com/appleauth/static/jsj/widget/auth/hsa2.js',
      module: 'widget/auth/components/hsa2/hsa2',
      isReact: true,
      authUserType: 'hsa2',
      hasTrustedDevices: trustedDevicesOf(account).length > 0,
      twoSV: {
        supportedPushModes: ['voice', 'sms'],
        phoneNumberVerification: {
          ...verification,
          ...(chosen ? { trustedPhoneNumber: chosen } : {}),
          recoveryUrl: `https://iforgot.apple.com/phone/add?prs_account_nm=${encodeURIComponent(account.appleId)}&autoSubmitAccount=true&appId=142`,
          cantUsePhoneNumberUrl: `https://iforgot.apple.com/iforgot/phone/add?context=cantuse&prs_account_nm=${encodeURIComponent(account.appleId)}&autoSubmitAccount=true&appId=142`,
          recoveryWebUrl: `https://iforgot.apple.com/password/verify/appleid?prs_account_nm=${encodeURIComponent(account.appleId)}&autoSubmitAccount=true&appId=142`,
          repairPhoneNumberUrl: 'https://gsa.apple.com/appleid/account/manage/repair/verify/phone',
          repairPhoneNumberWebUrl: 'https://appleid.apple.com/widget/account/repair?#!repair',
          aboutTwoFactorAuthenticationUrl: 'https://support.apple.com/kb/HT204921',
          autoVerified: false,
          showAutoVerificationUI: false,
          supportsCustodianRecovery: false,
          hideSendSMSCodeOption: false,
          supervisedChangePasswordFlow: false,
          supportsRecovery: true,
        },
        authFactors: ['robocall', 'sms', 'generatedcode'],
        source_returnurl: 'https://idmsa.apple.com/',
        sourceAppId: 1159,
      },
      referrerQuery: '',
      urlContext: '/appleauth',
      tag: '<hsa2 class=\'auth-v1\' suppress-iforgot="{suppressIforgot}" skip-trust-browser-step="{skipTrustBrowserStep}"></hsa2>',
      authType: 'hsa2',
      authInitialRoute: 'auth/verify/phone',
      appleIDUrl: 'https://appleid.apple.com',
    },
    additional: { canRoute2sv: true },
  };
}
