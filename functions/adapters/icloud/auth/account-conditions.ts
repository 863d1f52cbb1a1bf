/**
 * Account conditions that stop sign-in until the person fixes something, each explained in one
 * sentence that says what to do (docs/protocol/sign-in.md#signin-complete, docs/protocol/sign-in.md). Raised as `AccountConditionError` with
 * `condition` set to one of `AccountCondition`.
 */
import { AccountConditionError } from '#domain/errors.ts';

export type AccountCondition =
  | 'wrong-password'
  | 'locked'
  | 'too-many-codes'
  | 'security-key'
  | 'advanced-data-protection'
  | 'web-access-off'
  | 'terms-not-accepted'
  | 'wrong-region'
  | 'legacy-two-step'
  | 'rejected';

const MESSAGES: Record<Exclude<AccountCondition, 'wrong-region' | 'rejected'>, string> = {
  'wrong-password':
    'Apple did not accept this Apple ID and password; check both (the Apple ID is usually your email address) and run icloud-s3 login again.',
  locked:
    'Apple has locked verification codes for this Apple ID after too many attempts; wait a few hours (or unlock it at https://iforgot.apple.com) before running icloud-s3 login again.',
  'too-many-codes':
    'Apple has sent too many verification codes to this Apple ID; wait a few hours before running icloud-s3 login again, and do not request codes elsewhere meanwhile.',
  'security-key':
    'This Apple ID signs in with security keys (FIDO), which a tool cannot complete on iCloud.com; remove the keys under Settings > Apple Account > Sign-In & Security to use icloud-s3.',
  'advanced-data-protection':
    'Advanced Data Protection is on, so iCloud Photos cannot be read through iCloud.com by a tool; turn it off under Settings > Apple Account > iCloud and run icloud-s3 login again.',
  'web-access-off':
    '"Access iCloud Data on the Web" is off for this Apple ID; turn it on under Settings > Apple Account > iCloud on your iPhone and run icloud-s3 login again.',
  'terms-not-accepted':
    'Apple has new iCloud terms for this Apple ID; sign in once at https://www.icloud.com, accept them, and run icloud-s3 login again.',
  'legacy-two-step':
    'This Apple ID uses the old two-step verification, which icloud-s3 does not support; upgrade it to two-factor authentication at https://account.apple.com and run icloud-s3 login again.',
};

/** The error for a condition with a fixed message. */
export function accountCondition(
  condition: Exclude<AccountCondition, 'wrong-region' | 'rejected'>,
  cause?: unknown,
): AccountConditionError {
  return new AccountConditionError(condition, MESSAGES[condition], cause ? { cause } : {});
}

/**
 * A security-key account (`fsaChallenge` / `keyNames` in Apple's answer): Apple accepts only one of
 * those keys at sign-in and sends no code, so the message names the keys and the way out.
 */
export function securityKeys(keyNames: readonly string[]): AccountConditionError {
  const names = keyNames.filter((n) => n.trim() !== '');
  const which = names.length ? ` (${names.map((n) => `"${n}"`).join(', ')})` : '';
  return new AccountConditionError(
    'security-key',
    `This Apple ID is protected by security keys${which}, so Apple asks for one of those keys instead of sending a code, which icloud-s3 cannot present; remove the keys under Settings > Apple Account > Sign-In & Security > Security Keys on your iPhone (Apple then sends codes to your devices again) and run icloud-s3 login again.`,
  );
}

/** The account lives in the other region (`domainToUse`, docs/protocol/sign-in.md#china-mainland). */
export function wrongRegion(domainToUse: string): AccountConditionError {
  const china = domainToUse.toLowerCase().endsWith('.cn');
  const endpoint = china ? 'apple-cn' : 'apple';
  const service = china ? 'iCloud China (iCloud.com.cn)' : 'international iCloud (iCloud.com)';
  return new AccountConditionError(
    'wrong-region',
    `This Apple ID belongs to ${service}; run icloud-s3 login --endpoint ${endpoint}.`,
  );
}

/** Apple refused without saying why in a way we recognise (hidden rejection: X-Apple-I-Rscd, hasError, success:false). */
export function rejected(where: string, detail: string): AccountConditionError {
  return new AccountConditionError(
    'rejected',
    `Apple refused the sign-in at ${where} (${detail}); sign in once at https://www.icloud.com to see whether Apple asks for something, then run icloud-s3 login again.`,
  );
}
