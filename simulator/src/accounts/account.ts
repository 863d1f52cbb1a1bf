/**
 * A simulated Apple Account: identity (from identity.ts), SRP verifier, account flags (S37 in docs/protocol/simulator-contract.md#setup-service)
 * and its trusted second factors.
 */
import { randomBytes } from 'node:crypto';
import type { SrpProtocol } from '../auth/srp.ts';
import { bytesOf, verifierFor } from '../auth/srp.ts';
import type { SimPerson } from '../identity.ts';

/** Account conditions a test can toggle (`POST /__sim/accounts/flags`). */
export interface AccountFlags {
  /** 2 = two-factor (HSA2), 1 = legacy two-step, 0 = none. */
  hsaVersion: 0 | 1 | 2;
  hasICloudQualifyingDevice: boolean;
  isWebAccessAllowed: boolean;
  /** Advanced Data Protection. */
  iCDPEnabled: boolean;
  termsUpdateNeeded: boolean;
  /** Set to e.g. `iCloud.com.cn` to make accountLogin say the account lives in the other region. */
  domainToUse: string | null;
  /** Security keys (FIDO): signin/complete 409 carries `fsaChallenge`/`keyNames`. */
  fido: boolean;
  /** signin/complete answers 412 until `repair/complete`. */
  needsRepair: boolean;
  /**
   * Which Apple the sign-in behaves like (docs/protocol/sign-in.md). `2026` (default): no code until
   * `PUT verify/trusteddevice/securitycode` (202), the old triggers answer 405, a correct code is
   * answered 409 `securityCode.valid: true` with a fresh session token. `2025`: signin/complete pushes a
   * code by itself, every old trigger pushes, a correct code is answered 204 (device) / 200 (SMS).
   */
  authFlow: AuthFlow;
  /**
   * Escrow required (`EDP`/`PDP`): the code answer carries `X-Apple-Edp`/`X-Apple-PDP: true`, and a
   * signin/complete with a valid trust token answers 409 `{"authType":"hsa2"}` with that header;
   * `escrow/init` + `escrow/complete` then clear it.
   */
  escrow: EscrowKind | null;
  /** A skipped escrow counts: 2sv/trust answers 401 and accountLogin asks for two-factor until escrow is done. */
  escrowEnforced: boolean;
  /** The code answer (409 valid) comes without `X-Apple-Session-Token` (the non-ADP account of rclone #9730). */
  codeAnswerWithoutSessionToken: boolean;
  /** The code answer also carries `X-Apple-TwoSV-Trust-Token` (pyicloud #313, single report). */
  codeAnswerTrustToken: boolean;
  /** Status of the accepted-code answer in 2026 mode: 409 (Apple today) or 412 (icloudpd #1026, 2024). */
  codeAnswerStatus: 409 | 412;
  /** Status of the wrong-code answer: 400 (recorded) or 412 (same body). */
  wrongCodeStatus: 400 | 412;
  /** The PUT trigger answers 202 with `{trustedDeviceCount, securityCode, phoneNumberVerification}` instead of empty. */
  pushTriggerBody: boolean;
  /** `GET verify/trusteddevice` in 2026 mode: 405 (default) or 200; it pushes nothing either way. */
  trustedDeviceGetStatus: 200 | 405;
  /** No trusted device: the 409 says `noTrustedDevices: true`, codes come only by SMS/voice. */
  noTrustedDevices: boolean;
  /** The boot_args of `GET /appleauth/auth` route to the trusted-device bridge; phones sit under `bridgeInitiateData`. */
  bridgeRouted: boolean;
  /** The `nonFTEU` value of the trusted phone entries. */
  phoneNonFTEU: boolean;
  /** Where JSON `GET /appleauth/auth` puts the phones: top level, a `phoneNumberVerification` envelope, or nowhere. */
  authJsonShape: AuthJsonShape;
  /**
   * verify/* and 2sv/trust answer 400 to the idmsa header profile (idmsa Origin, FD-Client-Info,
   * Auth-Attributes echo, Offer-Security-Upgrade): the unverified claim of ICPS PR #1104 (S134).
   */
  rejectIdmsaProfileOnVerify: boolean;
  /** Per-account override of the global `strictIdmsaHeaders` setting; null = follow the setting. */
  strictIdmsaHeaders: boolean | null;
  /** accountLogin lists `webservices.sharedstreams` (legacy Shared Albums); off: the service is not activated (SA-1). */
  sharedStreams: boolean;
}

export type AuthFlow = '2025' | '2026';
export type EscrowKind = 'EDP' | 'PDP';
export type AuthJsonShape = 'top-level' | 'envelope' | 'none';

/** Flags of a fresh account, and the values older state files lack. */
export const DEFAULT_FLAGS: AccountFlags = {
  hsaVersion: 2,
  hasICloudQualifyingDevice: true,
  isWebAccessAllowed: true,
  iCDPEnabled: false,
  termsUpdateNeeded: false,
  domainToUse: null,
  fido: false,
  needsRepair: false,
  authFlow: '2026',
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
  sharedStreams: true,
};

export interface SrpRecord {
  /** base64 */
  salt: string;
  iterations: number;
  protocol: SrpProtocol;
  /** hex of v = g^x mod N */
  verifier: string;
}

export interface AccountRecord {
  appleId: string;
  password: string;
  dsid: string;
  userRecordName: string;
  firstName: string;
  lastName: string;
  /** The `pNN` of the account's CloudKit host; `partition-move` changes it. */
  partition: number;
  countryCode: string;
  srp: SrpRecord;
  flags: AccountFlags;
  /** Bumped by password change and sign-out-all; trust tokens and sessions of older epochs are dead. */
  credentialEpoch: number;
  trustedDevices: { id: string; name: string }[];
  trustedPhones: { id: number; lastTwoDigits: string }[];
}

export const DEFAULT_SRP_ITERATIONS = 20_064;

export function srpRecordFor(password: string, protocol: SrpProtocol, iterations = DEFAULT_SRP_ITERATIONS) {
  const salt = randomBytes(16);
  return {
    salt: salt.toString('base64'),
    iterations,
    protocol,
    verifier: bytesOf(verifierFor(password, salt, iterations, protocol)).toString('hex'),
  } satisfies SrpRecord;
}

/** A fresh account for a seeded person: two-factor on, one trusted device, one trusted phone. */
export function accountFor(person: SimPerson, phoneDigits: string): AccountRecord {
  return {
    appleId: person.appleId,
    password: person.password,
    dsid: person.dsid,
    userRecordName: person.userRecordName,
    firstName: person.firstName,
    lastName: person.lastName,
    partition: person.partition,
    countryCode: 'USA',
    srp: srpRecordFor(person.password, 's2k'),
    flags: { ...DEFAULT_FLAGS },
    credentialEpoch: 0,
    trustedDevices: [{ id: 'd1', name: `${person.firstName}'s iPhone` }],
    trustedPhones: [{ id: 1, lastTwoDigits: phoneDigits }],
  };
}
