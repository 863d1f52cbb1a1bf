/**
 * Two-factor steps (docs/protocol/sign-in.md): read the options, make Apple send one code (device
 * push or SMS), submit the code, and trust the session. Each function does one request (the push
 * trigger retries once after a 429, which sent nothing): the caller decides when to push, and must
 * never push again between showing a code and submitting it (a new push invalidates the code the
 * person is typing).
 */
import {
  AccountConditionError,
  InvalidInputError,
  RateLimitedError,
  UnexpectedResponseError,
} from '#domain/errors.ts';
import { parseRetryAfter } from '#shared/retry.ts';
import type { IcloudHttpRequest, IcloudHttpResponse } from '../http/types.ts';
import { rejected } from './account-conditions.ts';
import { appleErrorsOf, describeAppleErrors, effectiveStatus, jsonOrUndefined } from './apple-signals.ts';
import { type AuthContext, idmsaHeaders, verifyHeaders } from './auth-context.ts';
import { type EscrowKind, escrowRequested } from './escrow.ts';
import {
  assertNotLockedOut,
  challengeBodyFromBootHtml,
  mergeChallenges,
  type TwoFactorChallenge,
  twoFactorChallengeOf,
} from './two-factor-challenge.ts';

/** How the person receives the code; an SMS carries the phone's `nonFTEU` when Apple gave one. */
export type CodeDelivery =
  | { readonly kind: 'device' }
  | { readonly kind: 'sms'; readonly phoneId: number; readonly nonFTEU?: boolean };

/** The code was wrong (Apple's -21669): ask the person again, without a new push. */
export class WrongVerificationCodeError extends Error {
  override readonly name = 'WrongVerificationCodeError';
}

/** What Apple said when it accepted a code. */
export interface CodeAcceptance {
  /** 2026: Apple wants a second password proof (escrow) before it trusts the session. */
  readonly escrow?: EscrowKind;
  /** Whether the answer carried a new session token (some 2026 accounts answer 409 without one). */
  readonly sessionTokenRenewed: boolean;
}

const WRONG_CODE = '-21669';
const JSON_ACCEPT = 'application/json';
const HTML_ACCEPT = 'text/html';
const SMS_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  Accept: 'application/json; charset=utf-8',
};
/** The longest Retry-After the push trigger waits for before giving up (kei retries 429s). */
const TRIGGER_RETRY_CAP_MS = 30_000;

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** Normalises what the person typed: spaces and dashes removed, leading zeros kept. */
export function normalizeCode(input: string, length = 6): string {
  const code = input.replace(/[\s-]/g, '');
  if (!new RegExp(`^\\d{${length}}$`).test(code)) {
    throw new InvalidInputError(`a verification code is ${length} digits`);
  }
  return code;
}

/**
 * `GET /appleauth/auth`: trusted phone numbers and lock-out flags. JSON first (it keeps security
 * keys visible); when the JSON carries no phone number, once more as HTML, whose boot data is where
 * bridge-routed accounts keep their numbers since 2026.
 */
export async function fetchTwoFactorOptions(ctx: AuthContext): Promise<TwoFactorChallenge> {
  const fromJson = await fetchOptionsAs(ctx, JSON_ACCEPT);
  if (fromJson.trustedPhoneNumbers.length > 0) return fromJson;
  const fromHtml = await fetchOptionsAs(ctx, HTML_ACCEPT);
  return { ...mergeChallenges(fromHtml, fromJson), codeLength: fromJson.codeLength };
}

async function fetchOptionsAs(ctx: AuthContext, accept: string): Promise<TwoFactorChallenge> {
  const response = await ctx.http.send({
    method: 'GET',
    url: ctx.endpoint.authBase,
    headers: idmsaHeaders(ctx, accept),
  });
  if (response.status < 200 || response.status >= 300) {
    await response.text();
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

/** The `phoneNumber` object of the SMS requests: the id, and `nonFTEU` exactly when Apple gave it. */
function phoneNumberOf(delivery: Extract<CodeDelivery, { kind: 'sms' }>): Record<string, unknown> {
  return { id: delivery.phoneId, ...(delivery.nonFTEU !== undefined ? { nonFTEU: delivery.nonFTEU } : {}) };
}

/**
 * Asks Apple to send one code: `PUT verify/trusteddevice/securitycode` (no body; 202 since 2026)
 * pushes to the trusted devices, `PUT verify/phone` sends an SMS to one trusted number.
 */
export async function requestCode(ctx: AuthContext, delivery: CodeDelivery): Promise<void> {
  const request: IcloudHttpRequest =
    delivery.kind === 'device'
      ? {
          method: 'PUT',
          url: `${ctx.endpoint.authBase}/verify/trusteddevice/securitycode`,
          headers: verifyHeaders(ctx, JSON_ACCEPT),
        }
      : {
          method: 'PUT',
          url: `${ctx.endpoint.authBase}/verify/phone`,
          headers: { ...verifyHeaders(ctx, JSON_ACCEPT), ...SMS_HEADERS },
          json: { phoneNumber: phoneNumberOf(delivery), mode: 'sms' },
        };
  const response = await sendTrigger(ctx, request);
  const body = await jsonOrUndefined(response);
  if (response.status === 429 || response.status === 503) {
    throw new RateLimitedError(
      `Apple refused to send a code right now (HTTP ${response.status}); wait and try again.`,
    );
  }
  assertNotLockedOut(obj(body)?.['securityCode']);
  const errors = appleErrorsOf(body);
  if (response.status >= 400 || errors.length) {
    throw rejected(
      delivery.kind === 'device' ? 'verify/trusteddevice' : 'verify/phone',
      `HTTP ${response.status}, ${describeAppleErrors(errors)}`,
    );
  }
}

/** Sends a push trigger; a 429 with a short Retry-After is waited out once (it pushed nothing). */
async function sendTrigger(ctx: AuthContext, request: IcloudHttpRequest): Promise<IcloudHttpResponse> {
  const first = await ctx.http.send({ ...request, headers: { ...request.headers } });
  if (first.status !== 429) return first;
  const waitMs = parseRetryAfter(first.headers.get('retry-after'), ctx.now());
  if (waitMs === undefined || waitMs > TRIGGER_RETRY_CAP_MS) return first;
  await first.text();
  ctx.logger.info('code request throttled, retrying once', { waitMs });
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  // Rebuilt headers: scnt may have rotated with the 429.
  const headers =
    request.json === undefined
      ? verifyHeaders(ctx, JSON_ACCEPT)
      : { ...verifyHeaders(ctx, JSON_ACCEPT), ...SMS_HEADERS };
  return ctx.http.send({ ...request, headers });
}

/**
 * Submits a code. Accepted: a 2xx without errors (until 2026: 204 device, 200 SMS), or any answer
 * whose body says `securityCode.valid: true` (2026: 409, once 412), with or without a new session
 * token. Throws `WrongVerificationCodeError` for a wrong code, an account condition on lock-out.
 */
export async function submitCode(
  ctx: AuthContext,
  delivery: CodeDelivery,
  code: string,
): Promise<CodeAcceptance> {
  const response =
    delivery.kind === 'device'
      ? await ctx.http.send({
          method: 'POST',
          url: `${ctx.endpoint.authBase}/verify/trusteddevice/securitycode`,
          headers: verifyHeaders(ctx, JSON_ACCEPT),
          json: { securityCode: { code } },
        })
      : await ctx.http.send({
          method: 'POST',
          url: `${ctx.endpoint.authBase}/verify/phone/securitycode`,
          headers: { ...verifyHeaders(ctx, JSON_ACCEPT), ...SMS_HEADERS },
          json: { phoneNumber: phoneNumberOf(delivery), securityCode: { code }, mode: 'sms' },
        });
  const status = effectiveStatus(response);
  const body = await jsonOrUndefined(response);
  const errors = appleErrorsOf(body);
  const ercd = response.headers.get('x-apple-i-ercd');
  if (ercd === WRONG_CODE || errors.some((e) => e.code === WRONG_CODE)) {
    // The code that reaches the lock-out, and every one after it, is answered with the same
    // -21669: the options' lock-out flags tell it from a wrong code that may be typed again.
    await throwIfLockedOut(ctx);
    throw new WrongVerificationCodeError('Apple did not accept that verification code.');
  }
  const valid = obj(obj(body)?.['securityCode'])?.['valid'] === true;
  const accepted = errors.length === 0 && ((status >= 200 && status < 300) || valid);
  if (accepted) {
    const escrow = escrowRequested(response);
    return {
      ...(escrow ? { escrow } : {}),
      sessionTokenRenewed: Boolean(response.headers.get('x-apple-session-token')?.trim()),
    };
  }
  if (status === 429 || status === 503) {
    throw new RateLimitedError(`Apple refused the code right now (HTTP ${status}); wait and try again.`);
  }
  // Not "wrong code": Apple may have locked verification; its options say so.
  await throwIfLockedOut(ctx);
  throw rejected('verify/securitycode', `HTTP ${status}, ${describeAppleErrors(errors)}`);
}

/** The lock-out Apple's two-factor options report, if any; anything else they say is left alone. */
async function throwIfLockedOut(ctx: AuthContext): Promise<void> {
  try {
    await fetchOptionsAs(ctx, JSON_ACCEPT);
  } catch (error) {
    if (error instanceof AccountConditionError) throw error;
  }
}

/**
 * `GET /2sv/trust`: Apple answers 204 with a trust token (captured from the headers). After a
 * 2026 409 without a session token this runs on the sign-in's session token, which Apple accepts.
 */
export async function trustSession(ctx: AuthContext): Promise<void> {
  const before = ctx.session.fields.trustToken;
  const response = await ctx.http.send({
    method: 'GET',
    url: `${ctx.endpoint.authBase}/2sv/trust`,
    headers: verifyHeaders(ctx, 'application/json, text/javascript'),
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
