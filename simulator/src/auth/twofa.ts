import { randomUUID } from 'node:crypto';
/**
 * Two-factor (HSA2) and trust (spec §2.10, statements 21-30): the auth page, code pushes to the
 * trusted device and by SMS/voice, code submission, and `2sv/trust`.
 */
import { newOpaque } from '../accounts/tokens.ts';
import type { SimReply, SimRequest } from '../types.ts';
import { empty, text } from '../types.ts';
import type { AuthContext } from './context.ts';
import { localeCookies } from './cookies.ts';
import {
  findIdmsaSession,
  idmsaJson,
  sessionBaseHeaders,
  sessionHeaders,
  staleContext,
} from './idmsa-common.ts';
import type { IdmsaSession } from './idmsa-state.ts';
import { authInfoJson, bootArgsPage, phoneNumberVerification, securityCodeState } from './twofa-bodies.ts';

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

const serviceError = (code: string, title: string, message: string) => ({
  service_errors: [{ code, title, message, suppressDismissal: false }],
  hasError: true,
});

/** 400 for a wrong code, exactly as recorded (`2fa_flow_invalid_code`). */
const wrongCode = (session: IdmsaSession): SimReply =>
  idmsaJson(
    serviceError('-21669', 'Incorrect Verification Code', 'Incorrect verification code.'),
    400,
    { ...sessionBaseHeaders(session), 'X-Apple-I-Ercd': '-21669' },
    { cookies: localeCookies() },
  );

/** 400 once too many wrong codes were entered (simulator wording; Apple's is not recorded). */
const locked = (session: IdmsaSession): SimReply =>
  idmsaJson(
    serviceError('-21669', 'Verification Code Locked', 'Too many incorrect codes. Try again later.'),
    400,
    { ...sessionBaseHeaders(session), 'X-Apple-I-Ercd': '-21669' },
  );

/** 400 once too many codes were sent (simulator wording; Apple's is not recorded). */
const tooManyCodes = (session: IdmsaSession): SimReply =>
  idmsaJson(
    serviceError('-22981', 'Too Many Codes Sent', 'Too many verification codes have been sent.'),
    400,
    {
      ...sessionBaseHeaders(session),
    },
  );

/** `GET /appleauth/auth`: HTML with `boot_args`, or JSON for `Accept: application/json` (statement 21). */
export function authPage(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  const headers = { ...sessionBaseHeaders(session), 'X-Apple-Request-UUID': randomUUID() };
  if ((req.headers['accept'] ?? '').includes('application/json')) {
    return idmsaJson(authInfoJson(ctx, session.account), 200, headers);
  }
  return text(bootArgsPage(ctx, session.account), 200, 'text/html; charset=UTF-8', { headers });
}

function pushToDevice(ctx: AuthContext, session: IdmsaSession, status: number): SimReply {
  const pushed = ctx.idmsa.push(session.account, 'device');
  if (!pushed.ok) return tooManyCodes(session);
  if (status === 204) return empty(204, { headers: sessionHeaders(session, undefined) });
  return idmsaJson(
    {
      trustedDeviceCount: session.account.trustedDevices.length,
      securityCode: securityCodeState(ctx, session.account),
      phoneNumberVerification: phoneNumberVerification(ctx, session.account),
    },
    status,
    sessionHeaders(session, undefined),
  );
}

/** `PUT verify/trusteddevice/securitycode` (kei) and `PUT verify/trusteddevice` (ICPS, 202) (statement 22). */
export function pushDeviceCode(ctx: AuthContext, req: SimRequest, status: number): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  return pushToDevice(ctx, session, status);
}

/** `PUT verify/phone` `{"phoneNumber":{"id":N},"mode":"sms"|"voice"}` (statement 24). */
export function sendPhoneCode(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  const body = asRecord(req.json);
  const phoneId = asRecord(body['phoneNumber'])['id'];
  const mode = body['mode'] === 'voice' ? 'voice' : 'sms';
  if (!session.account.trustedPhones.some((p) => p.id === phoneId)) {
    return idmsaJson(
      serviceError('-21655', 'Unknown Phone Number', 'This phone number is not trusted.'),
      400,
      {
        ...sessionBaseHeaders(session),
      },
    );
  }
  const pushed = ctx.idmsa.push(session.account, mode);
  if (!pushed.ok) return tooManyCodes(session);
  return idmsaJson(
    { ...phoneNumberVerification(ctx, session.account, phoneId as number), mode },
    200,
    sessionHeaders(session, undefined),
  );
}

/**
 * `POST verify/trusteddevice/securitycode` (204) and `POST verify/phone/securitycode` (200)
 * (statements 25-28). A correct code marks the session verified and issues a new session token.
 */
export function submitCode(ctx: AuthContext, req: SimRequest, via: 'device' | 'phone'): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  const sent = asRecord(asRecord(req.json)['securityCode'])['code'];
  const outcome = ctx.idmsa.checkCode(session.account, sent);
  if (outcome === 'locked') return locked(session);
  if (outcome === 'wrong') return wrongCode(session);
  session.verified = true;
  const token = ctx.store.issueSessionToken(session.account, {
    idmsaSessionId: session.id,
    verified: true,
    trusted: session.trusted,
    repairPending: session.repairPending,
    fidoIncomplete: session.fido,
  });
  const headers = { ...sessionHeaders(session, token), 'X-Apple-OAuth-Grant-Code': newOpaque(24) };
  if (via === 'phone') return idmsaJson({}, 200, headers, { cookies: localeCookies() });
  return empty(204, { headers, cookies: localeCookies() });
}

/** `GET /appleauth/auth/2sv/trust`: 204 + trust token after a correct code, else 401 (statement 29). */
export function trustSession(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session?.verified) return staleContext();
  session.trusted = true;
  const trustToken = ctx.store.issueTrustToken(session.account);
  const token = ctx.store.issueSessionToken(session.account, {
    idmsaSessionId: session.id,
    verified: true,
    trusted: true,
    repairPending: session.repairPending,
    fidoIncomplete: session.fido,
  });
  return empty(204, {
    headers: {
      ...sessionHeaders(session, token),
      'X-Apple-OAuth-Grant-Code': newOpaque(24),
      'X-Apple-TwoSV-Trust-Token': trustToken,
    },
    cookies: localeCookies(),
  });
}
