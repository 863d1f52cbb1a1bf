/**
 * What Apple tells us about the second factor: trusted devices, trusted phone numbers, code
 * length, and its lock-out flags (spec §2.7 409 body, §2.10.1 `GET /appleauth/auth` JSON or HTML
 * boot data). Parsed leniently: any of these may be missing.
 */
import { accountCondition } from './account-conditions.ts';

export interface TrustedPhoneNumber {
  readonly id: number;
  /** Masked by Apple, e.g. `+1 (•••) •••-••81`. */
  readonly numberWithDialCode: string;
}

export interface TwoFactorChallenge {
  readonly hasTrustedDevices: boolean;
  readonly trustedPhoneNumbers: readonly TrustedPhoneNumber[];
  readonly codeLength: number;
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function phonesOf(list: unknown): TrustedPhoneNumber[] {
  if (!Array.isArray(list)) return [];
  const phones: TrustedPhoneNumber[] = [];
  for (const item of list) {
    const p = obj(item);
    const id = Number(p?.['id']);
    if (!p || !Number.isInteger(id)) continue;
    const masked = p['numberWithDialCode'] ?? p['obfuscatedNumber'];
    phones.push({
      id,
      numberWithDialCode:
        typeof masked === 'string' ? masked : `number ending ${String(p['lastTwoDigits'] ?? '??')}`,
    });
  }
  return phones;
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
 * Reads a two-factor description from a 409 body or from the JSON of `GET /appleauth/auth`.
 * Security keys (`fsaChallenge` / `keyNames`) raise `security-key`: such sessions are rejected
 * later by CloudKit anyway (kei #221).
 */
export function twoFactorChallengeOf(body: unknown): TwoFactorChallenge {
  const root = obj(body) ?? {};
  if (
    root['fsaChallenge'] !== undefined ||
    (Array.isArray(root['keyNames']) && root['keyNames'].length > 0)
  ) {
    throw accountCondition('security-key');
  }
  const pnv = obj(root['phoneNumberVerification']);
  const securityCode = root['securityCode'] ?? pnv?.['securityCode'];
  assertNotLockedOut(securityCode);
  const phones = phonesOf(root['trustedPhoneNumbers'] ?? pnv?.['trustedPhoneNumbers']);
  const devices = root['trustedDevices'];
  const length = Number(obj(securityCode)?.['length']);
  return {
    hasTrustedDevices:
      (Array.isArray(devices) && devices.length > 0) ||
      root['hasTrustedDevices'] === true ||
      Number(root['trustedDeviceCount']) > 0,
    trustedPhoneNumbers: phones,
    codeLength: Number.isInteger(length) && length > 0 ? length : 6,
  };
}

/** Extracts the `direct.twoSV` part of the HTML boot data of `GET /appleauth/auth`, as a 409-like body. */
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
  const twoSV = obj(direct?.['twoSV']);
  const pnv = obj(twoSV?.['phoneNumberVerification']);
  return {
    hasTrustedDevices: direct?.['hasTrustedDevices'],
    trustedPhoneNumbers: pnv?.['trustedPhoneNumbers'],
    securityCode: pnv?.['securityCode'],
  };
}

/** Merges what the sign-in answer said with what `GET /appleauth/auth` said (the richer one wins per field). */
export function mergeChallenges(a: TwoFactorChallenge, b: TwoFactorChallenge): TwoFactorChallenge {
  return {
    hasTrustedDevices: a.hasTrustedDevices || b.hasTrustedDevices,
    trustedPhoneNumbers: a.trustedPhoneNumbers.length ? a.trustedPhoneNumbers : b.trustedPhoneNumbers,
    codeLength: a.codeLength,
  };
}
