/**
 * The account document returned by `accountLogin` and `validate` (spec §2.9, statement 33), shaped
 * after the recorded one: `dsInfo`, `webservices` with the account's `pNN` partition, `apps`,
 * `configBag`, `requestInfo`. Accounts without two-factor omit `hsaChallengeRequired`,
 * `hsaTrustedBrowser` and `dsInfo.hsaVersion`, as recorded (`auth_non_2fa`).
 */
import { createHash } from 'node:crypto';
import type { AccountRecord } from '../accounts/account.ts';

export interface DocumentState {
  readonly hsaChallengeRequired: boolean;
  readonly hsaTrustedBrowser: boolean;
  readonly isExtendedLogin: boolean;
}

/** `https://pNN-ckdatabasews.icloud.com:443`. */
export const ckdatabasewsUrl = (partition: number): string =>
  `https://p${partition}-ckdatabasews.icloud.com:443`;

const service = (p: number, name: string, extra: Record<string, unknown> = {}) => ({
  url: `https://p${p}-${name}.icloud.com:443`,
  status: 'active',
  ...extra,
});

export function accountDocument(account: AccountRecord, state: DocumentState): Record<string, unknown> {
  const p = account.partition;
  const f = account.flags;
  const twoFactor = f.hsaVersion > 0;
  const aDsID = createHash('sha256').update(account.dsid).digest('hex');
  return {
    dsInfo: {
      lastName: account.lastName,
      iCDPEnabled: f.iCDPEnabled,
      dsid: account.dsid,
      ...(twoFactor ? { hsaEnabled: true, hsaVersion: f.hsaVersion } : {}),
      locale: 'en-us_US',
      isManagedAppleID: false,
      appleIdAliases: [],
      countryCode: account.countryCode,
      primaryEmailVerified: true,
      aDsID: `${aDsID.slice(0, 6)}-${aDsID.slice(6, 8)}-${aDsID.slice(8, 16)}-${aDsID.slice(16, 20)}-${aDsID.slice(20, 24)}-${aDsID.slice(24, 28)}-${aDsID.slice(28, 40)}`,
      locked: false,
      hasICloudQualifyingDevice: f.hasICloudQualifyingDevice,
      primaryEmail: account.appleId,
      appleIdEntries: [{ isPrimary: true, type: 'EMAIL', value: account.appleId }],
      isWebAccessAllowed: f.isWebAccessAllowed,
      fullName: `${account.firstName} ${account.lastName}`,
      languageCode: 'en-us',
      appleId: account.appleId,
      firstName: account.firstName,
      hasPaymentInfo: false,
      pcsDeleted: false,
      statusCode: 2,
      familyEligible: true,
    },
    hasMinimumDeviceForPhotosWeb: true,
    iCDPEnabled: f.iCDPEnabled,
    webservices: {
      ckdatabasews: { pcsRequired: true, url: ckdatabasewsUrl(p), status: 'active' },
      photos: {
        pcsRequired: true,
        uploadUrl: `https://p${p}-uploadphotosws.icloud.com:443`,
        url: `https://p${p}-photosws.icloud.com:443`,
        status: 'active',
      },
      photosupload: service(p, 'uploadphotosws', { pcsRequired: true }),
      cksharews: { url: `https://p${p}-ckshare.icloud.com:443`, status: 'active' },
      ckdeviceservice: { url: `https://p${p}-ckdevice.icloud.com:443` },
      sharedlibrary: { url: 'https://sharedlibrary.icloud.com:443', status: 'active' },
      account: {
        iCloudEnv: { shortId: 'p', vipSuffix: 'prod' },
        url: `https://p${p}-setup.icloud.com:443`,
        status: 'active',
      },
      push: service(p, 'pushws'),
    },
    pcsEnabled: true,
    configBag: {
      urls: {
        accountLogin: 'https://setup.icloud.com/setup/ws/1/accountLogin',
        repairDone: 'https://setup.icloud.com/setup/ws/1/repairDone',
        getICloudTerms: 'https://setup.icloud.com/setup/ws/1/getTerms',
        downloadICloudTerms: 'https://setup.icloud.com/setup/ws/1/downloadLiteTerms',
        accountAuthorizeUI: 'https://idmsa.apple.com/appleauth/auth/authorize/signin?client_id=',
      },
      accountCreateEnabled: true,
    },
    ...(twoFactor
      ? { hsaTrustedBrowser: state.hsaTrustedBrowser, hsaChallengeRequired: state.hsaChallengeRequired }
      : {}),
    appsOrder: [
      'mail',
      'contacts',
      'calendar',
      'photos',
      'iclouddrive',
      'notes3',
      'reminders',
      'find',
      'settings',
    ],
    version: 2,
    isExtendedLogin: state.isExtendedLogin,
    pcsServiceIdentitiesIncluded: false,
    ...(f.termsUpdateNeeded ? { termsUpdateNeeded: true } : {}),
    requestInfo: { country: 'US', timeZone: 'GMT', region: 'CA' },
    pcsDeleted: false,
    iCloudInfo: { SafariBookmarksHasMigratedToCloudKit: true },
    apps: {
      photos: {},
      iclouddrive: {},
      mail: {},
      contacts: {},
      calendar: {},
      find: { canLaunchWithOneFactor: true },
    },
  };
}
