/**
 * Steps 1–2 of sign-in (docs/protocol/sign-in.md): `signin/init`, `signin/complete`, and `repair/complete`
 * after a 412; since 2026 also the escrow a trusted sign-in may ask for (docs/protocol/sign-in.md).
 * Exactly one SRP exchange per call, never retried: Apple throttles SRP for hours.
 */

import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Secret } from '#shared/redact.ts';
import { accountCondition, rejected } from './account-conditions.ts';
import { appleErrorsOf, describeAppleErrors, effectiveStatus, jsonOrUndefined } from './apple-signals.ts';
import { type AuthContext, idmsaHeaders } from './auth-context.ts';
import { completeEscrow, escrowRequested } from './escrow.ts';
import { bigIntToBytes, createClientEphemeral } from './srp.ts';
import { proveSrp, readSrpAnswer } from './srp-answer.ts';
import { assertNotThrottled, recordThrottle } from './throttle.ts';
import { type TwoFactorChallenge, twoFactorChallengeOf } from './two-factor-challenge.ts';

export type SrpOutcome =
  /** Apple accepted the password; `accountLogin` decides whether two-factor is still needed. */
  | { readonly kind: 'signed-in' }
  /** Apple wants a second factor (409, or the cassettes' 200 `{"auth_type":"hsa2"}`). */
  | { readonly kind: 'two-factor'; readonly challenge: TwoFactorChallenge };

/** Runs one SRP sign-in with the stored trust token. Raises typed errors for every refusal. */
export async function srpSignIn(ctx: AuthContext, password: Secret<string>): Promise<SrpOutcome> {
  assertNotThrottled(ctx);
  const accountName = ctx.session.appleId;
  const ephemeral = createClientEphemeral();

  const init = await ctx.http.send({
    method: 'POST',
    url: `${ctx.endpoint.authBase}/signin/init`,
    headers: idmsaHeaders(ctx),
    json: { a: bigIntToBytes(ephemeral.A).toString('base64'), accountName, protocols: ['s2k', 's2k_fo'] },
  });
  if (init.status === 503 || init.status === 429) throw recordThrottle(ctx, init, 'signin/init');
  if (init.status === 401) {
    // A stale auth context, never a wrong password (kei): start the next attempt from scratch.
    ctx.session.update({ scnt: undefined, sessionId: undefined });
    throw new UnexpectedResponseError(
      'Apple rejected the sign-in context (HTTP 401 at signin/init); try again.',
    );
  }
  if (init.status !== 200) {
    throw new UnexpectedResponseError(`signin/init answered HTTP ${init.status}`);
  }
  const challenge = readSrpAnswer(await jsonOrUndefined(init), 'signin/init');
  const proof = proveSrp(ephemeral, challenge, accountName, password);
  const trustToken = ctx.session.fields.trustToken;
  const complete = await ctx.http.send({
    method: 'POST',
    url: `${ctx.endpoint.authBase}/signin/complete?isRememberMeEnabled=true`,
    headers: idmsaHeaders(ctx),
    json: {
      accountName,
      c: challenge.c,
      m1: proof.M1.toString('base64'),
      m2: proof.M2.toString('base64'),
      rememberMe: true,
      trustTokens: trustToken ? [trustToken] : [],
    },
  });
  const body = await jsonOrUndefined(complete);
  const escrow = escrowRequested(complete);
  if (complete.status === 409 && escrow && trustToken) {
    // 2026: a valid trust token is answered 409 + EDP/PDP instead of 200; a second password proof
    // (escrow) replaces the code, and no /2sv/trust follows.
    ctx.logger.info('sign-in escrow', { escrow, via: 'trust token' });
    await completeEscrow(ctx, password);
    return { kind: 'signed-in' };
  }
  return interpretComplete(ctx, complete.status, effectiveStatus(complete), body, complete);
}

async function interpretComplete(
  ctx: AuthContext,
  httpStatus: number,
  status: number,
  body: unknown,
  response: Parameters<typeof recordThrottle>[1],
): Promise<SrpOutcome> {
  const errors = appleErrorsOf(body);
  switch (status) {
    case 200: {
      if (errors.length) throw rejected('signin/complete', describeAppleErrors(errors));
      const authType =
        typeof body === 'object' && body !== null
          ? (body as Record<string, unknown>)['auth_type']
          : undefined;
      if (authType === 'hsa2') return { kind: 'two-factor', challenge: twoFactorChallengeOf(body) };
      return { kind: 'signed-in' };
    }
    case 409:
      return { kind: 'two-factor', challenge: twoFactorChallengeOf(body) };
    case 412:
      await repair(ctx);
      return { kind: 'signed-in' };
    case 401:
      // M1 rejected is Apple's only reliable wrong-password signal (-20101, docs/protocol/sign-in.md#signin-complete).
      if (errors.length === 0 || errors.some((e) => e.code === '-20101'))
        throw accountCondition('wrong-password');
      throw rejected('signin/complete', describeAppleErrors(errors));
    case 429:
    case 503:
      throw recordThrottle(ctx, response, 'signin/complete');
    default:
      if (httpStatus === 200) throw rejected('signin/complete', `hidden status ${status}`);
      if (status >= 500) throw recordThrottle(ctx, response, 'signin/complete');
      throw new UnexpectedResponseError(
        `signin/complete answered HTTP ${status} (${describeAppleErrors(errors)})`,
      );
  }
}

/** `POST repair/complete {}` after a 412 (docs/protocol/sign-in.md#signin-complete). */
async function repair(ctx: AuthContext): Promise<void> {
  const response = await ctx.http.send({
    method: 'POST',
    url: `${ctx.endpoint.authBase}/repair/complete`,
    headers: idmsaHeaders(ctx),
    json: {},
  });
  await response.text();
  if (response.status < 200 || response.status >= 300) {
    throw rejected('repair/complete', `HTTP ${response.status}`);
  }
}
