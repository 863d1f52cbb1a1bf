/**
 * Interactive sign-in, one step per method so a person (or a test) sits between them:
 * `signIn(password)` -> maybe `requestCode(delivery)` -> `verifyCode(delivery, code)` (repeatable
 * on a wrong code, never re-pushing) -> signed in and trusted.
 */
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Secret } from '#shared/redact.ts';
import type { AccountInfo } from './account-document.ts';
import type { AuthContext } from './auth-context.ts';
import { completeEscrow } from './escrow.ts';
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
  /** Kept for the escrow Apple may ask for after the code (a second password proof). */
  #password: Secret<string> | undefined;
  /** The delivery a code was requested for in this challenge: one request per challenge. */
  #requested: CodeDelivery | undefined;

  constructor(ctx: AuthContext) {
    this.#ctx = ctx;
  }

  /**
   * One SRP sign-in (with the stored trust token, so a trusted client usually skips two-factor),
   * then `accountLogin`. Account conditions surface here, before anyone types a code. The trusted
   * numbers come from the sign-in answer, else from `GET /appleauth/auth`.
   */
  async signIn(password: Secret<string>): Promise<SignInResult> {
    this.#password = password;
    this.#requested = undefined;
    const outcome = await srpSignIn(this.#ctx, password);
    const account = await accountLogin(this.#ctx);
    // Also after a 409: a trust token Apple still honours signs in without a code (2026, openHAB).
    if (!account.requiresTwoFactor) return { status: 'signed-in', account };
    const fromSignIn = outcome.kind === 'two-factor' ? outcome.challenge : undefined;
    const challenge =
      fromSignIn && fromSignIn.trustedPhoneNumbers.length > 0
        ? fromSignIn
        : mergeChallenges(
            fromSignIn ?? { hasTrustedDevices: false, trustedPhoneNumbers: [], codeLength: 6 },
            await fetchTwoFactorOptions(this.#ctx),
          );
    this.#codeLength = challenge.codeLength;
    return { status: 'two-factor', challenge };
  }

  /**
   * Makes Apple send one code. Once per challenge: a second call sends nothing, because a new push
   * would invalidate the code the person already has.
   */
  async requestCode(delivery: CodeDelivery): Promise<void> {
    if (this.#requested) {
      this.#ctx.logger.warn('code already requested for this sign-in; not asking Apple again', {
        delivery: this.#requested.kind,
      });
      return;
    }
    this.#requested = delivery;
    await requestCode(this.#ctx, delivery);
  }

  /**
   * Submits the code, completes the escrow Apple may ask for, trusts the session and signs in to
   * iCloud again with the new trust token. A wrong code throws `WrongVerificationCodeError` and may
   * be retried with another code.
   */
  async verifyCode(delivery: CodeDelivery, typed: string): Promise<AccountInfo> {
    const acceptance = await submitCode(this.#ctx, delivery, normalizeCode(typed, this.#codeLength));
    this.#ctx.logger.info('code accepted', {
      escrow: acceptance.escrow ?? 'none',
      sessionTokenRenewed: acceptance.sessionTokenRenewed,
    });
    if (acceptance.escrow) {
      if (!this.#password) throw new UnexpectedResponseError('escrow asked for before sign-in');
      await completeEscrow(this.#ctx, this.#password);
    }
    await trustSession(this.#ctx);
    const account = await accountLogin(this.#ctx);
    if (account.requiresTwoFactor) {
      throw new UnexpectedResponseError('iCloud still asks for two-factor after a trusted verification');
    }
    this.#password = undefined;
    return account;
  }
}
