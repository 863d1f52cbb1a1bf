/**
 * Interactive sign-in, one step per method so a person (or a test) sits between them:
 * `signIn(password)` -> maybe `requestCode(delivery)` -> `verifyCode(delivery, code)` (repeatable
 * on a wrong code, never re-pushing) -> signed in and trusted.
 */
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Secret } from '#shared/redact.ts';
import type { AccountInfo } from './account-document.ts';
import type { AuthContext } from './auth-context.ts';
import { accountLogin } from './setup-service.ts';
import { srpSignIn } from './srp-sign-in.ts';
import {
  type CodeDelivery,
  fetchTwoFactorOptions,
  normalizeCode,
  requestCode,
  submitCode,
  trustSession,
} from './two-factor.ts';
import { mergeChallenges, type TwoFactorChallenge } from './two-factor-challenge.ts';

export type SignInResult =
  | { readonly status: 'signed-in'; readonly account: AccountInfo }
  | { readonly status: 'two-factor'; readonly challenge: TwoFactorChallenge };

export class IcloudAuthenticator {
  readonly #ctx: AuthContext;
  #codeLength = 6;

  constructor(ctx: AuthContext) {
    this.#ctx = ctx;
  }

  /**
   * One SRP sign-in (with the stored trust token, so a trusted client usually skips two-factor),
   * then `accountLogin`. Account conditions surface here, before anyone types a code.
   */
  async signIn(password: Secret<string>): Promise<SignInResult> {
    const outcome = await srpSignIn(this.#ctx, password);
    const account = await accountLogin(this.#ctx);
    if (outcome.kind === 'signed-in' && !account.requiresTwoFactor) return { status: 'signed-in', account };
    const fromSignIn = outcome.kind === 'two-factor' ? outcome.challenge : undefined;
    const fromOptions = await fetchTwoFactorOptions(this.#ctx);
    const challenge = fromSignIn ? mergeChallenges(fromSignIn, fromOptions) : fromOptions;
    this.#codeLength = challenge.codeLength;
    return { status: 'two-factor', challenge };
  }

  /** Makes Apple send one code. Call once per login; a second push invalidates the first code. */
  async requestCode(delivery: CodeDelivery): Promise<void> {
    await requestCode(this.#ctx, delivery);
  }

  /**
   * Submits the code, trusts the session and signs in to iCloud again with the new trust token.
   * A wrong code throws `WrongVerificationCodeError` and may be retried with another code.
   */
  async verifyCode(delivery: CodeDelivery, typed: string): Promise<AccountInfo> {
    await submitCode(this.#ctx, delivery, normalizeCode(typed, this.#codeLength));
    await trustSession(this.#ctx);
    const account = await accountLogin(this.#ctx);
    if (account.requiresTwoFactor) {
      throw new UnexpectedResponseError('iCloud still asks for two-factor after a trusted verification');
    }
    return account;
  }
}
