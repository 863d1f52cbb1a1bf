/** Two-factor response bodies (spec §2.7 challenge, §2.10.1 boot data, §2.10.2 phone verification). */
import { randomBytes } from 'node:crypto';
import type { AccountRecord } from '../accounts/account.ts';
import type { AuthContext } from './context.ts';

const DOT = '\u2022';

function phoneEntry(p: { id: number; lastTwoDigits: string }) {
  const obfuscated = `(${DOT.repeat(3)}) ${DOT.repeat(3)}-${DOT.repeat(2)}${p.lastTwoDigits}`;
  return {
    id: p.id,
    numberWithDialCode: `+1 ${obfuscated}`,
    obfuscatedNumber: obfuscated,
    pushMode: 'sms',
    lastTwoDigits: p.lastTwoDigits,
  };
}

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
  const phones = account.trustedPhones.map(phoneEntry);
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

/** The 409 body of signin/complete; with security keys it also carries `fsaChallenge` and `keyNames`. */
export function challengeBody(ctx: AuthContext, account: AccountRecord) {
  return {
    authType: 'hsa2',
    trustedDevices: account.trustedDevices.map((d) => ({ id: d.id, name: d.name, modelName: 'iPhone' })),
    trustedPhoneNumbers: account.trustedPhones.map(phoneEntry),
    securityCode: securityCodeState(ctx, account),
    noTrustedDevices: account.trustedDevices.length === 0,
    ...(account.flags.fido
      ? {
          fsaChallenge: {
            challenge: randomBytes(32).toString('base64url'),
            keyHandles: [randomBytes(64).toString('base64url')],
            rpId: 'apple.com',
          },
          keyNames: ['YubiKey 5C'],
        }
      : {}),
  };
}

/** `GET /appleauth/auth` JSON form (icloud-photos-sync): phone list at the top level. */
export function authInfoJson(ctx: AuthContext, account: AccountRecord) {
  return {
    ...phoneNumberVerification(ctx, account),
    trustedDeviceCount: account.trustedDevices.length,
    mode: 'sms',
    type: 'verification',
  };
}

/** `GET /appleauth/auth` HTML form: the `boot_args` script of the recorded page. */
export function bootArgsPage(ctx: AuthContext, account: AccountRecord): string {
  const boot = {
    direct: {
      scriptSk7Url: 'https://appleid.cdn-apple.com/appleauth/static/module-assets/home.js',
      scriptUrl: 'https://appleid.cdn-apple.com/appleauth/static/jsj/widget/auth/hsa2.js',
      module: 'widget/auth/components/hsa2/hsa2',
      isReact: true,
      authUserType: 'hsa2',
      hasTrustedDevices: account.trustedDevices.length > 0,
      twoSV: {
        supportedPushModes: ['voice', 'sms'],
        phoneNumberVerification: {
          ...phoneNumberVerification(ctx, account),
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
  return `<script type="application/json" class="boot_args">${JSON.stringify(boot)}</script>`;
}
