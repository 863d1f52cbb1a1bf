/**
 * The account document returned by `accountLogin` and `validate` (docs/protocol/sign-in.md#accountlogin, S33 in docs/protocol/simulator-contract.md#setup-service), shaped
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

/** Every service the recorded document lists: `[name, host part, extra fields]`. */
const SERVICES: readonly (readonly [string, string, Record<string, unknown>?])[] = [
  ['reminders', 'remindersws'],
  ['ckdatabasews', 'ckdatabasews', { pcsRequired: true }],
  ['photosupload', 'uploadphotosws', { pcsRequired: true }],
  ['drivews', 'drivews', { pcsRequired: true }],
  ['uploadimagews', 'uploadimagews'],
  ['cksharews', 'ckshare'],
  ['findme', 'fmipweb'],
  ['iworkthumbnailws', 'iworkthumbnailws'],
  ['mccgateway', 'mccgateway'],
  ['calendar', 'calendarws', { isMakoAccount: false }],
  ['docws', 'docws', { pcsRequired: true }],
  ['settings', 'settingsws'],
  ['premiummailsettings', 'maildomainws'],
  ['ubiquity', 'ubiquityws'],
  ['keyvalue', 'keyvalueservice'],
  ['archivews', 'archivews'],
  ['push', 'pushws'],
  ['iwmb', 'iwmb'],
  ['iworkexportws', 'iworkexportws'],
  ['geows', 'geows'],
  ['contacts', 'contactsws'],
];

function webservices(p: number, sharedStreams: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, host, extra] of SERVICES) {
    out[name] = { ...extra, url: `https://p${p}-${host}.icloud.com:443`, status: 'active' };
  }
  return {
    ...out,
    photos: {
      pcsRequired: true,
      uploadUrl: `https://p${p}-uploadphotosws.icloud.com:443`,
      url: `https://p${p}-photosws.icloud.com:443`,
      status: 'active',
    },
    schoolwork: {},
    ckdeviceservice: { url: `https://p${p}-ckdevice.icloud.com:443` },
    mpp: { url: 'https://relay.icloud-mpp.com', status: 'active' },
    sharedlibrary: { url: 'https://sharedlibrary.icloud.com:443', status: 'active' },
    account: {
      iCloudEnv: { shortId: 'p', vipSuffix: 'prod' },
      url: `https://p${p}-setup.icloud.com:443`,
      status: 'active',
    },
    developerapi: { url: 'https://developer-api.icloud.com:443', status: 'active' },
    // Legacy Shared Albums; the account's own partition, like every pNN service above.
    ...(sharedStreams
      ? { sharedstreams: { url: `https://p${p}-sharedstreams.icloud.com:443`, status: 'active' } }
      : {}),
  };
}

const hexId = (h: string): string =>
  `${h.slice(0, 6)}-${h.slice(6, 8)}-${h.slice(8, 16)}-${h.slice(16, 20)}-${h.slice(20, 24)}-${h.slice(24, 28)}-${h.slice(28, 40)}`;

export function accountDocument(account: AccountRecord, state: DocumentState): Record<string, unknown> {
  const p = account.partition;
  const f = account.flags;
  const twoFactor = f.hsaVersion > 0;
  const h = createHash('sha256').update(account.dsid).digest('hex');
  return {
    dsInfo: {
      lastName: account.lastName,
      iCDPEnabled: f.iCDPEnabled,
      tantorMigrated: false,
      dsid: account.dsid,
      ...(twoFactor ? { hsaEnabled: true } : {}),
      ironcadeMigrated: true,
      locale: 'en-us_US',
      brZoneConsolidated: false,
      ICDRSCapableDeviceList: '',
      isManagedAppleID: false,
      isCustomDomainsFeatureAvailable: true,
      isHideMyEmailFeatureAvailable: true,
      ContinueOnDeviceEligibleDeviceInfo: [],
      'gilligan-invited': true,
      appleIdAliases: [],
      ...(twoFactor ? { hsaVersion: f.hsaVersion } : {}),
      ubiquityEOLEnabled: true,
      isPaidDeveloper: false,
      countryCode: account.countryCode,
      notificationId: `${h.slice(40, 48)}-${h.slice(48, 52)}-${h.slice(52, 60)}-${h.slice(60, 64)}`,
      primaryEmailVerified: true,
      aDsID: hexId(h),
      locked: false,
      ICDRSCapableDeviceCount: 0,
      hasICloudQualifyingDevice: f.hasICloudQualifyingDevice,
      primaryEmail: account.appleId,
      appleIdEntries: [{ isPrimary: true, type: 'EMAIL', value: account.appleId }],
      'gilligan-enabled': true,
      isWebAccessAllowed: f.isWebAccessAllowed,
      fullName: `${account.firstName} ${account.lastName}`,
      mailFlags: {
        isThreadingAvailable: false,
        isSearchV2Provisioned: false,
        rawBits: new Array<number>(64).fill(0),
        isCKMail: false,
        isMppSupportedInCurrentCountry: true,
      },
      languageCode: 'en-us',
      appleId: account.appleId,
      analyticsOptInStatus: false,
      firstName: account.firstName,
      iCloudAppleIdAlias: '',
      notesMigrated: true,
      beneficiaryInfo: { isBeneficiary: false },
      hasPaymentInfo: false,
      pcsDeleted: false,
      appleIdAlias: '',
      brMigrated: true,
      statusCode: 2,
      familyEligible: true,
    },
    hasMinimumDeviceForPhotosWeb: true,
    iCDPEnabled: f.iCDPEnabled,
    webservices: webservices(p, f.sharedStreams),
    pcsEnabled: true,
    configBag: {
      urls: {
        accountCreateUI: 'https://appleid.apple.com/widget/account/?widgetKey=#!create',
        accountLoginUI: 'https://idmsa.apple.com/appleauth/auth/signin?widgetKey=',
        accountLogin: 'https://setup.icloud.com/setup/ws/1/accountLogin',
        accountRepairUI: 'https://appleid.apple.com/widget/account/?widgetKey=#!repair',
        downloadICloudTerms: 'https://setup.icloud.com/setup/ws/1/downloadLiteTerms',
        repairDone: 'https://setup.icloud.com/setup/ws/1/repairDone',
        accountAuthorizeUI: 'https://idmsa.apple.com/appleauth/auth/authorize/signin?client_id=',
        vettingUrlForEmail: 'https://id.apple.com/IDMSEmailVetting/vetShareEmail',
        accountCreate: 'https://setup.icloud.com/setup/ws/1/createLiteAccount',
        getICloudTerms: 'https://setup.icloud.com/setup/ws/1/getTerms',
        vettingUrlForPhone: 'https://id.apple.com/IDMSEmailVetting/vetSharePhone',
      },
      accountCreateEnabled: true,
    },
    ...(twoFactor ? { hsaTrustedBrowser: state.hsaTrustedBrowser } : {}),
    appsOrder: [
      'mail',
      'contacts',
      'calendar',
      'photos',
      'iclouddrive',
      'notes3',
      'reminders',
      'pages',
      'numbers',
      'keynote',
      'newspublisher',
      'find',
      'settings',
    ],
    version: 2,
    isExtendedLogin: state.isExtendedLogin,
    pcsServiceIdentitiesIncluded: false,
    ...(twoFactor ? { hsaChallengeRequired: state.hsaChallengeRequired } : {}),
    ...(f.termsUpdateNeeded ? { termsUpdateNeeded: true } : {}),
    requestInfo: { country: 'US', timeZone: 'PST', region: 'CA' },
    pcsDeleted: false,
    iCloudInfo: { SafariBookmarksHasMigratedToCloudKit: true },
    apps: {
      calendar: {},
      reminders: {},
      keynote: { isQualifiedForBeta: true },
      settings: { canLaunchWithOneFactor: true },
      mail: {},
      numbers: { isQualifiedForBeta: true },
      photos: {},
      pages: { isQualifiedForBeta: true },
      notes3: {},
      find: { canLaunchWithOneFactor: true },
      iclouddrive: {},
      newspublisher: { isHidden: true },
      contacts: {},
    },
  };
}
