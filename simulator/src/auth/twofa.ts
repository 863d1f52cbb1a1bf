import { randomUUID } from 'node:crypto';
/**
 * Two-factor (HSA2) and trust (docs/protocol/sign-in.md#two-factor, S21-S30 in docs/protocol/simulator-contract.md#two-factor-and-trust, the 2026 changes S119-S128): the auth
 * page, code triggers for the trusted device and SMS/voice, code submission, and `2sv/trust`.
 */
import type { AccountRecord } from '../accounts/account.ts';
import { newOpaque, newScnt } from '../accounts/tokens.ts';
import type { SimReply, SimRequest } from '../types.ts';
import { empty, text } from '../types.ts';
import type { AuthContext } from './context.ts';
import { localeCookies } from './cookies.ts';
import {
  baseIdmsaHeaders,
  escrowHeader,
  findIdmsaSession,
  idmsaJson,
  sessionBaseHeaders,
  sessionHeaders,
  staleContext,
} from './idmsa-common.ts';
import type { IdmsaSession, SignInStepName } from './idmsa-state.ts';
import {
  authInfoJson,
  bootArgsPage,
  codeAcceptedBody,
  phoneNumberVerification,
  securityCodeState,
} from './twofa-bodies.ts';

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

const serviceError = (code: string, title: string, message: string) => ({
  service_errors: [{ code, title, message, suppressDismissal: false }],
  hasError: true,
});

/** 400 for a wrong code, exactly as recorded (`2fa_flow_invalid_code`); 412 with `wrongCodeStatus` (S127). */
const wrongCode = (session: IdmsaSession): SimReply =>
  idmsaJson(
    serviceError('-21669', 'Incorrect Verification Code', 'Incorrect verification code.'),
    session.account.flags.wrongCodeStatus,
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

/** `GET /appleauth/auth`: HTML with `boot_args`, or JSON for `Accept: application/json` (S21 in docs/protocol/simulator-contract.md#two-factor-and-trust, S122-S123, S135). */
export function authPage(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  ctx.idmsa.logStep(session.account.appleId, 'auth-options', 200);
  const headers = { ...sessionBaseHeaders(session), 'X-Apple-Request-UUID': randomUUID() };
  if ((req.headers['accept'] ?? '').includes('application/json')) {
    return idmsaJson(authInfoJson(ctx, session.account, session.fsaChallenge), 200, headers);
  }
  return text(bootArgsPage(ctx, session.account), 200, 'text/html; charset=UTF-8', { headers });
}

/** 405 for a trigger Apple retired in 2026 (S120); it pushes nothing. */
const methodNotAllowed = (): SimReply => idmsaJson({}, 405, baseIdmsaHeaders(newScnt()));

/** True when the account's devices can show a code (no security keys, at least one trusted device). */
const devicesTakeCodes = (account: AccountRecord): boolean =>
  !account.flags.fido && !account.flags.noTrustedDevices;

/** The `{trustedDeviceCount, securityCode, phoneNumberVerification}` body of a push answer. */
const pushBody = (ctx: AuthContext, session: IdmsaSession) => ({
  trustedDeviceCount: session.account.flags.noTrustedDevices ? 0 : session.account.trustedDevices.length,
  securityCode: securityCodeState(ctx, session.account),
  phoneNumberVerification: phoneNumberVerification(ctx, session.account),
});

/**
 * `PUT verify/trusteddevice/securitycode`, body none or `null`: the trigger. 2026 flow (S119): 202
 * empty (or with the push body when `pushTriggerBody`), one new code, never `X-Apple-Edp`; a
 * security-key or device-less account gets no code. 2025 flow (S22 in docs/protocol/simulator-contract.md#two-factor-and-trust): 204.
 */
export function triggerDeviceCode(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  const { account } = session;
  const legacy = account.flags.authFlow === '2025';
  if (devicesTakeCodes(account) || legacy) {
    const pushed = ctx.idmsa.push(account, 'device');
    if (!pushed.ok) return logged(ctx, session, 'push-trigger', tooManyCodes(session));
  }
  const headers = sessionHeaders(session, undefined);
  if (legacy) return logged(ctx, session, 'push-trigger', empty(204, { headers }));
  if (account.flags.pushTriggerBody) {
    return logged(ctx, session, 'push-trigger', idmsaJson(pushBody(ctx, session), 202, headers));
  }
  return logged(ctx, session, 'push-trigger', empty(202, { headers }));
}

/**
 * The pre-2026 triggers: `PUT verify/trusteddevice` (ICPS, 202 + body), `GET verify/trusteddevice`
 * (pyicloud, 200), `POST verify/trusteddevice`. 2025 flow: they push (S22 in docs/protocol/simulator-contract.md#two-factor-and-trust). 2026 flow (S120):
 * PUT and POST answer 405, GET answers `trustedDeviceGetStatus` (405 or 200); none pushes.
 */
export function oldDeviceTrigger(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  const legacy = session?.account.flags.authFlow === '2025';
  if (!session || !legacy) {
    const getAnswers200 = req.method === 'GET' && session?.account.flags.trustedDeviceGetStatus === 200;
    const reply = getAnswers200
      ? idmsaJson(pushBody(ctx, session), 200, sessionHeaders(session, undefined))
      : methodNotAllowed();
    return session ? logged(ctx, session, 'old-trigger', reply) : reply;
  }
  if (req.method === 'POST') return logged(ctx, session, 'old-trigger', methodNotAllowed());
  const pushed = ctx.idmsa.push(session.account, 'device');
  if (!pushed.ok) return logged(ctx, session, 'old-trigger', tooManyCodes(session));
  const status = req.method === 'PUT' ? 202 : 200;
  return logged(
    ctx,
    session,
    'old-trigger',
    idmsaJson(pushBody(ctx, session), status, sessionHeaders(session, undefined)),
  );
}

/**
 * `PUT verify/phone` `{"phoneNumber":{"id":N[,"nonFTEU":b]},"mode":"sms"|"voice"}` (S24 in docs/protocol/simulator-contract.md#two-factor-and-trust,
 * S124). A security-key account gets no code (S135).
 */
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
  if (!session.account.flags.fido) {
    const pushed = ctx.idmsa.push(session.account, mode);
    if (!pushed.ok) return logged(ctx, session, 'sms-sent', tooManyCodes(session));
  }
  return logged(
    ctx,
    session,
    'sms-sent',
    idmsaJson(
      { ...phoneNumberVerification(ctx, session.account, phoneId as number), mode },
      200,
      sessionHeaders(session, undefined),
    ),
  );
}

/**
 * `POST verify/trusteddevice/securitycode` and `POST verify/phone/securitycode` (S25-S28 in docs/protocol/simulator-contract.md#two-factor-and-trust,
 * S125-S127). A correct code marks the session verified. 2026 flow: 409 (or `codeAnswerStatus`) with
 * `securityCode.valid: true` and a new session token (unless `codeAnswerWithoutSessionToken`), plus
 * the escrow header of the account; 2025 flow: 204 (device) / 200 (phone).
 */
export function submitCode(ctx: AuthContext, req: SimRequest, via: 'device' | 'phone'): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  const { account } = session;
  const input = asRecord(req.json);
  const sent = asRecord(input['securityCode'])['code'];
  const outcome = ctx.idmsa.checkCode(account, sent);
  if (outcome === 'locked') return logged(ctx, session, 'code-rejected', locked(session));
  if (outcome === 'wrong') return logged(ctx, session, 'code-rejected', wrongCode(session));
  const legacy = account.flags.authFlow === '2025';
  session.verified = true;
  session.escrowPending = !legacy && account.flags.escrow !== null;
  const dropToken = !legacy && account.flags.codeAnswerWithoutSessionToken;
  const token = ctx.store.issueSessionToken(account, {
    idmsaSessionId: session.id,
    verified: true,
    trusted: session.trusted,
    repairPending: session.repairPending,
    fidoIncomplete: session.fido,
    escrowPending: session.escrowPending,
  });
  if (legacy) {
    const headers = { ...sessionHeaders(session, token), 'X-Apple-OAuth-Grant-Code': newOpaque(24) };
    const reply =
      via === 'phone'
        ? idmsaJson({}, 200, headers, { cookies: localeCookies() })
        : empty(204, { headers, cookies: localeCookies() });
    return logged(ctx, session, 'code-accepted', reply);
  }
  const headers = {
    ...sessionHeaders(session, dropToken ? undefined : token),
    ...escrowHeader(account),
    ...(account.flags.codeAnswerTrustToken
      ? { 'X-Apple-TwoSV-Trust-Token': ctx.store.issueTrustToken(account) }
      : {}),
  };
  const phoneId = asRecord(input['phoneNumber'])['id'];
  const body = codeAcceptedBody(
    ctx,
    account,
    via,
    String(sent),
    typeof phoneId === 'number' ? phoneId : undefined,
  );
  return logged(
    ctx,
    session,
    'code-accepted',
    idmsaJson(body, account.flags.codeAnswerStatus, headers, { cookies: localeCookies() }),
  );
}

/**
 * `GET /appleauth/auth/2sv/trust`: 204 + trust token after a correct code, else 401 (S29 in docs/protocol/simulator-contract.md#two-factor-and-trust,
 * S128). With `escrowEnforced`, also 401 while escrow is pending (S131).
 */
export function trustSession(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session?.verified) return staleContext();
  if (session.escrowPending && session.account.flags.escrowEnforced) {
    return logged(ctx, session, 'trust', staleContext());
  }
  session.trusted = true;
  const trustToken = ctx.store.issueTrustToken(session.account);
  const token = ctx.store.issueSessionToken(session.account, {
    idmsaSessionId: session.id,
    verified: true,
    trusted: true,
    repairPending: session.repairPending,
    fidoIncomplete: session.fido,
    escrowPending: session.escrowPending,
  });
  return logged(
    ctx,
    session,
    'trust',
    empty(204, {
      headers: {
        ...sessionHeaders(session, token),
        'X-Apple-OAuth-Grant-Code': newOpaque(24),
        'X-Apple-TwoSV-Trust-Token': trustToken,
      },
      cookies: localeCookies(),
    }),
  );
}

/** Records the step in the account's sign-in log (S146) and passes the reply through. */
export function logged(
  ctx: AuthContext,
  session: IdmsaSession,
  step: SignInStepName,
  reply: SimReply,
): SimReply {
  ctx.idmsa.logStep(session.account.appleId, step, reply.status);
  return reply;
}
