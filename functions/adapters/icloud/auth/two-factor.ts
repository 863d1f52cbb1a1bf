/**
 * Two-factor steps (spec §2.10): read the options, make Apple send one code (device push or SMS),
 * submit the code, and trust the session. Each function does exactly one request: the caller
 * decides when to push, and must never push again between showing a code and submitting it (a new
 * push invalidates the code the person is typing).
 */
import {
  AccountConditionError,
  InvalidInputError,
  RateLimitedError,
  UnexpectedResponseError,
} from '#domain/errors.ts';
import { rejected } from './account-conditions.ts';
import { appleErrorsOf, describeAppleErrors, effectiveStatus, jsonOrUndefined } from './apple-signals.ts';
import { type AuthContext, idmsaHeaders } from './auth-context.ts';
import {
  assertNotLockedOut,
  challengeBodyFromBootHtml,
  type TwoFactorChallenge,
  twoFactorChallengeOf,
} from './two-factor-challenge.ts';

/** How the person receives the code. */
export type CodeDelivery = { readonly kind: 'device' } | { readonly kind: 'sms'; readonly phoneId: number };

/** The code was wrong (Apple's -21669): ask the person again, without a new push. */
export class WrongVerificationCodeError extends Error {
  override readonly name = 'WrongVerificationCodeError';
}

const WRONG_CODE = '-21669';
const JSON_ACCEPT = 'application/json';
const SMS_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  Accept: 'application/json; charset=utf-8',
};

/** Normalises what the person typed: spaces and dashes removed, leading zeros kept. */
export function normalizeCode(input: string, length = 6): string {
  const code = input.replace(/[\s-]/g, '');
  if (!new RegExp(`^\\d{${length}}$`).test(code)) {
    throw new InvalidInputError(`a verification code is ${length} digits`);
  }
  return code;
}

/** `GET /appleauth/auth`: trusted phone numbers and lock-out flags (JSON, or the HTML boot data). */
export async function fetchTwoFactorOptions(ctx: AuthContext): Promise<TwoFactorChallenge> {
  const response = await ctx.http.send({
    method: 'GET',
    url: ctx.endpoint.authBase,
    headers: idmsaHeaders(ctx, JSON_ACCEPT),
  });
  if (response.status < 200 || response.status >= 300) {
    throw new UnexpectedResponseError(`the two-factor options answered HTTP ${response.status}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = challengeBodyFromBootHtml(text);
  }
  return twoFactorChallengeOf(body);
}

/** Asks Apple to send one code (push to trusted devices, or SMS to one trusted number). */
export async function requestCode(ctx: AuthContext, delivery: CodeDelivery): Promise<void> {
  const response =
    delivery.kind === 'device'
      ? await ctx.http.send({
          method: 'PUT',
          url: `${ctx.endpoint.authBase}/verify/trusteddevice/securitycode`,
          headers: idmsaHeaders(ctx, JSON_ACCEPT),
        })
      : await ctx.http.send({
          method: 'PUT',
          url: `${ctx.endpoint.authBase}/verify/phone`,
          headers: { ...idmsaHeaders(ctx, JSON_ACCEPT), ...SMS_HEADERS },
          json: { phoneNumber: { id: delivery.phoneId }, mode: 'sms' },
        });
  const body = await jsonOrUndefined(response);
  if (response.status === 429 || response.status === 503) {
    throw new RateLimitedError(
      `Apple refused to send a code right now (HTTP ${response.status}); wait and try again.`,
    );
  }
  const securityCode = (body as { securityCode?: unknown } | undefined)?.securityCode;
  assertNotLockedOut(securityCode);
  const errors = appleErrorsOf(body);
  if (response.status >= 400 || errors.length) {
    throw rejected(
      delivery.kind === 'device' ? 'verify/trusteddevice' : 'verify/phone',
      describeAppleErrors(errors),
    );
  }
}

/** Submits a code. Throws `WrongVerificationCodeError` for a wrong code, an account condition on lock-out. */
export async function submitCode(ctx: AuthContext, delivery: CodeDelivery, code: string): Promise<void> {
  const response =
    delivery.kind === 'device'
      ? await ctx.http.send({
          method: 'POST',
          url: `${ctx.endpoint.authBase}/verify/trusteddevice/securitycode`,
          headers: idmsaHeaders(ctx, JSON_ACCEPT),
          json: { securityCode: { code } },
        })
      : await ctx.http.send({
          method: 'POST',
          url: `${ctx.endpoint.authBase}/verify/phone/securitycode`,
          headers: { ...idmsaHeaders(ctx, JSON_ACCEPT), ...SMS_HEADERS },
          json: { phoneNumber: { id: delivery.phoneId }, securityCode: { code }, mode: 'sms' },
        });
  const status = effectiveStatus(response);
  const body = await jsonOrUndefined(response);
  const errors = appleErrorsOf(body);
  const ercd = response.headers.get('x-apple-i-ercd');
  if (status >= 200 && status < 300 && errors.length === 0) return;
  if (ercd === WRONG_CODE || errors.some((e) => e.code === WRONG_CODE)) {
    throw new WrongVerificationCodeError('Apple did not accept that verification code.');
  }
  if (status === 429 || status === 503) {
    throw new RateLimitedError(`Apple refused the code right now (HTTP ${status}); wait and try again.`);
  }
  // Not "wrong code": Apple may have locked verification; its options say so.
  try {
    await fetchTwoFactorOptions(ctx);
  } catch (error) {
    if (error instanceof AccountConditionError) throw error;
  }
  throw rejected('verify/securitycode', `HTTP ${status}, ${describeAppleErrors(errors)}`);
}

/** `GET /2sv/trust` (spec §2.10.4): Apple answers 204 with a trust token (captured from the headers). */
export async function trustSession(ctx: AuthContext): Promise<void> {
  const before = ctx.session.fields.trustToken;
  const response = await ctx.http.send({
    method: 'GET',
    url: `${ctx.endpoint.authBase}/2sv/trust`,
    headers: idmsaHeaders(ctx),
  });
  await response.text();
  if (response.status < 200 || response.status >= 300) {
    throw rejected('2sv/trust', `HTTP ${response.status}`);
  }
  const after = ctx.session.fields.trustToken;
  if (!after || after === before) {
    throw new UnexpectedResponseError('2sv/trust answered without a new trust token');
  }
}
