/**
 * A simulated Apple Account: identity (from identity.ts), SRP verifier, account flags (statement 37)
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
}

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
    flags: {
      hsaVersion: 2,
      hasICloudQualifyingDevice: true,
      isWebAccessAllowed: true,
      iCDPEnabled: false,
      termsUpdateNeeded: false,
      domainToUse: null,
      fido: false,
      needsRepair: false,
    },
    credentialEpoch: 0,
    trustedDevices: [{ id: 'd1', name: `${person.firstName}'s iPhone` }],
    trustedPhones: [{ id: 1, lastTwoDigits: phoneDigits }],
  };
}
