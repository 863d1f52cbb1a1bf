/**
 * What Apple tells us about the second factor: trusted devices, trusted phone numbers, code
 * length, and its lock-out flags (docs/protocol/sign-in.md: the `signin/complete` 409 body and
 * `GET /appleauth/auth` as JSON or HTML boot data). Parsed leniently: any of these may be missing,
 * and since 2026 the phone list moves between places from account to account.
 */
import { accountCondition, securityKeys } from './account-conditions.ts';

export interface TrustedPhoneNumber {
  readonly id: number;
  /** Masked by Apple, e.g. `+1 (•••) •••-••81`. */
  readonly numberWithDialCode: string;
  /** Apple's `nonFTEU` flag, echoed back when a code goes to this number (absent when Apple gave none). */
  readonly nonFTEU?: boolean;
}

export interface TwoFactorChallenge {
  readonly hasTrustedDevices: boolean;
  /** Apple said so (`noTrustedDevices: true`): a code can only come by text message. */
  readonly noTrustedDevices?: true;
  readonly trustedPhoneNumbers: readonly TrustedPhoneNumber[];
  readonly codeLength: number;
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function phoneOf(item: unknown): TrustedPhoneNumber | undefined {
  const p = obj(item);
  const id = Number(p?.['id']);
  if (!p || p['id'] === undefined || p['id'] === null || !Number.isInteger(id)) return undefined;
  const masked = p['numberWithDialCode'] ?? p['obfuscatedNumber'];
  const lastTwo = p['lastTwoDigits'];
  const nonFTEU = p['nonFTEU'];
  return {
    id,
    numberWithDialCode:
      typeof masked === 'string' && masked !== ''
        ? masked
        : typeof lastTwo === 'string' || typeof lastTwo === 'number'
          ? `number ending ${lastTwo}`
          : `trusted number ${id}`,
    ...(typeof nonFTEU === 'boolean' ? { nonFTEU } : {}),
  };
}

/**
 * Every trusted number, wherever this account's answer keeps it: the top level (older JSON), a
 * `phoneNumberVerification` envelope (JSON and boot data), or
 * `bridgeInitiateData.phoneNumberVerification` (bridge-routed accounts since 2026); plural lists
 * first, then the singular `trustedPhoneNumber`. The first entry for an id wins.
 */
function phonesOf(root: Record<string, unknown>): TrustedPhoneNumber[] {
  const pnv = obj(root['phoneNumberVerification']);
  const bridge = obj(obj(root['bridgeInitiateData'])?.['phoneNumberVerification']);
  const holders = [root, pnv, bridge].filter((h): h is Record<string, unknown> => h !== undefined);
  const candidates: unknown[] = [];
  for (const h of holders)
    if (Array.isArray(h['trustedPhoneNumbers'])) candidates.push(...h['trustedPhoneNumbers']);
  for (const h of holders)
    if (h['trustedPhoneNumber'] !== undefined) candidates.push(h['trustedPhoneNumber']);
  const phones = new Map<number, TrustedPhoneNumber>();
  for (const c of candidates) {
    const phone = phoneOf(c);
    if (phone && !phones.has(phone.id)) phones.set(phone.id, phone);
  }
  return [...phones.values()];
}

/** Throws the lock-out condition Apple's `securityCode` flags report, if any. */
export function assertNotLockedOut(securityCode: unknown): void {
  const flags = obj(securityCode);
  if (!flags) return;
  if (flags['securityCodeLocked'] === true) throw accountCondition('locked');
  if (flags['tooManyCodesValidated'] === true) throw accountCondition('locked');
  if (flags['tooManyCodesSent'] === true || flags['securityCodeCooldown'] === true) {
    throw accountCondition('too-many-codes');
  }
}

/**
 * Reads a two-factor description from a 409 body, from the JSON of `GET /appleauth/auth`, or from
 * the `direct.twoSV` of its HTML boot data. Security keys (`fsaChallenge` / `keyNames`) raise
 * `security-key`, naming the keys: Apple then sends no code, and a session that skips the key is
 * refused by CloudKit later anyway (kei #221).
 */
export function twoFactorChallengeOf(body: unknown): TwoFactorChallenge {
  const root = obj(body) ?? {};
  const keyNames = Array.isArray(root['keyNames'])
    ? root['keyNames'].filter((n): n is string => typeof n === 'string')
    : [];
  if (obj(root['fsaChallenge']) !== undefined || keyNames.length > 0) throw securityKeys(keyNames);
  const pnv = obj(root['phoneNumberVerification']);
  const bridgePnv = obj(obj(root['bridgeInitiateData'])?.['phoneNumberVerification']);
  const securityCode = root['securityCode'] ?? pnv?.['securityCode'] ?? bridgePnv?.['securityCode'];
  assertNotLockedOut(securityCode);
  const devices = root['trustedDevices'];
  const length = Number(obj(securityCode)?.['length']);
  return {
    hasTrustedDevices:
      (Array.isArray(devices) && devices.length > 0) ||
      root['hasTrustedDevices'] === true ||
      Number(root['trustedDeviceCount']) > 0,
    trustedPhoneNumbers: phonesOf(root),
    codeLength: Number.isInteger(length) && length > 0 ? length : 6,
    ...(root['noTrustedDevices'] === true ? { noTrustedDevices: true } : {}),
  };
}

/**
 * Extracts `direct.twoSV` from the HTML boot data of `GET /appleauth/auth`, with the `direct`
 * fields that matter next to it, as a body `twoFactorChallengeOf` reads.
 */
export function challengeBodyFromBootHtml(html: string): unknown {
  const match = /<script[^>]*class="boot_args"[^>]*>([\s\S]*?)<\/script>/.exec(html);
  if (!match?.[1]) return undefined;
  let boot: unknown;
  try {
    boot = JSON.parse(match[1]);
  } catch {
    return undefined;
  }
  const direct = obj(obj(boot)?.['direct']);
  if (!direct) return undefined;
  const twoSV = obj(direct['twoSV']) ?? {};
  return {
    ...twoSV,
    hasTrustedDevices: direct['hasTrustedDevices'],
    ...(direct['keyNames'] !== undefined ? { keyNames: direct['keyNames'] } : {}),
    ...(direct['fsaChallenge'] !== undefined ? { fsaChallenge: direct['fsaChallenge'] } : {}),
  };
}

/** Merges what the sign-in answer said with what `GET /appleauth/auth` said (the richer one wins per field). */
export function mergeChallenges(a: TwoFactorChallenge, b: TwoFactorChallenge): TwoFactorChallenge {
  return {
    hasTrustedDevices: a.hasTrustedDevices || b.hasTrustedDevices,
    trustedPhoneNumbers: a.trustedPhoneNumbers.length ? a.trustedPhoneNumbers : b.trustedPhoneNumbers,
    codeLength: a.codeLength,
    ...(a.noTrustedDevices || b.noTrustedDevices ? { noTrustedDevices: true } : {}),
  };
}
