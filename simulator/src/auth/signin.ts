/**
 * IdMSA sign-in: `signin/init`, `signin/complete`, `repair/complete`, the legacy `signin`, the
 * optional `authorize/signin` page and `federate` (docs/protocol/sign-in.md, S7-S20 in docs/protocol/simulator-contract.md#sign-in).
 */
import { randomBytes } from 'node:crypto';
import { newIdmsaSessionId, newOpaque, newScnt, newSrpChallenge } from '../accounts/tokens.ts';
import type { SimReply, SimRequest } from '../types.ts';
import { empty, text } from '../types.ts';
import type { AuthContext } from './context.ts';
import { THROTTLE_BODY, WIDGET_KEY } from './context.ts';
import {
  baseIdmsaHeaders,
  escrowHeader,
  findIdmsaSession,
  hasWidgetKey,
  idmsaJson,
  sessionHeaders,
  staleContext,
  strictHeadersFor,
} from './idmsa-common.ts';
import { aaspCookie } from './idmsa-cookies.ts';
import type { IdmsaSession } from './idmsa-state.ts';
import {
  bytesOf,
  expectedProofs,
  intOf,
  proofMatches,
  randomSecret,
  serverPublic,
  verifierFor,
} from './srp.ts';
import { challengeBody } from './twofa-bodies.ts';

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The 29-byte `text/html` throttling answer. */
export const throttled = (): SimReply =>
  text(THROTTLE_BODY, 503, 'text/html', { headers: baseIdmsaHeaders(newScnt()) });

const wrongPassword = (): SimReply =>
  idmsaJson(
    {
      serviceErrors: [
        {
          code: '-20101',
          message: 'Enter the email or phone number and password for your Apple Account.',
          suppressDismissal: false,
        },
      ],
    },
    401,
    baseIdmsaHeaders(newScnt()),
  );

const missingWidgetKey = (): SimReply => idmsaJson({}, 400, baseIdmsaHeaders(newScnt()));

/** `POST /appleauth/auth/signin/init` (S7-S9, S18 in docs/protocol/simulator-contract.md#sign-in). */
export function signinInit(ctx: AuthContext, req: SimRequest): SimReply {
  if (!hasWidgetKey(req, WIDGET_KEY)) return missingWidgetKey();
  const body = asRecord(req.json);
  const accountName = typeof body['accountName'] === 'string' ? body['accountName'] : undefined;
  const aText = typeof body['a'] === 'string' ? body['a'] : undefined;
  if (!accountName || !aText) return idmsaJson({}, 400, baseIdmsaHeaders(newScnt()));
  if (ctx.idmsa.srpAttempt(accountName).throttled) return throttled();

  const account = ctx.store.account(accountName);
  const protocols = Array.isArray(body['protocols']) ? body['protocols'] : ['s2k', 's2k_fo'];
  // Unknown accounts get a random salt and verifier, so the failure surfaces at complete (S9 in docs/protocol/simulator-contract.md#sign-in).
  const salt = account ? Buffer.from(account.srp.salt, 'base64') : randomBytes(16);
  const iterations = account?.srp.iterations ?? 20_064;
  const protocol = account?.srp.protocol ?? 's2k';
  if (!protocols.includes(protocol)) return idmsaJson({}, 400, baseIdmsaHeaders(newScnt()));
  const v = account
    ? intOf(Buffer.from(account.srp.verifier, 'hex'))
    : verifierFor(newOpaque(), salt, 1, 's2k');
  const b = randomSecret();
  const B = serverPublic(b, v);
  const c = newSrpChallenge();
  const scnt = newScnt();
  const A = intOf(Buffer.from(aText, 'base64'));
  ctx.idmsa.addHandshake({ c, accountName, account, salt, A, b, B, v, scnt, createdAt: ctx.clock.now() });
  if (account) ctx.idmsa.logStep(account.appleId, 'signin-init', 200);
  return idmsaJson(
    {
      iteration: iterations,
      salt: salt.toString('base64'),
      protocol,
      version: 1,
      b: bytesOf(B).toString('base64'),
      c,
    },
    200,
    baseIdmsaHeaders(scnt),
    { contentType: 'text/html;charset=UTF-8', cookies: req.cookies.has('aasp') ? [] : [aaspCookie()] },
  );
}

/**
 * `POST /appleauth/auth/signin/complete` (S10-S15 in docs/protocol/simulator-contract.md#sign-in, S119, S129). The handshake is found by
 * its `c`; the `scnt` of init is required only when strict headers apply (Apple answered the recorded
 * complete that sent neither `scnt` nor a session id). Every answer re-sets the `aasp` cookie.
 */
export function signinComplete(ctx: AuthContext, req: SimRequest): SimReply {
  if (!hasWidgetKey(req, WIDGET_KEY)) return missingWidgetKey();
  const body = asRecord(req.json);
  const c = typeof body['c'] === 'string' ? body['c'] : undefined;
  const handshake = c === undefined ? undefined : ctx.idmsa.takeHandshake(c);
  if (!handshake) return staleContext();
  if (strictHeadersFor(ctx, handshake.account) && req.headers['scnt'] !== handshake.scnt) {
    return staleContext();
  }
  const account = handshake.account;
  const m1 = typeof body['m1'] === 'string' ? Buffer.from(body['m1'], 'base64') : Buffer.alloc(0);
  const accountName = typeof body['accountName'] === 'string' ? body['accountName'] : handshake.accountName;
  // A came with signin/init; complete carries only the proofs.
  const proofs = expectedProofs({
    accountName,
    salt: handshake.salt,
    A: handshake.A,
    b: handshake.b,
    B: handshake.B,
    v: handshake.v,
  });
  if (!account || !proofs || !proofMatches(proofs.m1, m1)) {
    if (account) ctx.idmsa.logStep(account.appleId, 'signin-complete', 401);
    return wrongPassword();
  }

  const trustTokens = Array.isArray(body['trustTokens']) ? body['trustTokens'] : [];
  const trusted = trustTokens.some((t) => typeof t === 'string' && ctx.store.trustTokenValid(account, t));
  const fido = account.flags.fido;
  const twoFactor = account.flags.hsaVersion === 2;
  const needs2fa = twoFactor && (!trusted || fido);
  // A valid trust token on an escrow account: no code, but a second password proof (escrow/*).
  const escrowPending = twoFactor && !needs2fa && account.flags.escrow !== null;
  const aasp = req.cookies.get('aasp') ?? aaspCookie().value;
  const session: IdmsaSession = {
    id: newIdmsaSessionId(),
    account,
    scnts: new Set(),
    aasp,
    needs2fa,
    repairPending: account.flags.needsRepair,
    fido,
    verified: !needs2fa,
    trusted,
    escrowPending,
    escrowHandshake: undefined,
    fsaChallenge: fido ? randomBytes(32).toString('base64url') : undefined,
    lastActive: ctx.clock.now(),
  };
  ctx.idmsa.addSession(session);
  const token = ctx.store.issueSessionToken(account, {
    idmsaSessionId: session.id,
    verified: session.verified,
    trusted,
    repairPending: session.repairPending,
    fidoIncomplete: fido,
    escrowPending,
  });
  const cookies = [aaspCookie(aasp)];
  const headers = {
    ...sessionHeaders(session, token, { trustEligible: !escrowPending }),
    Location: '/auth',
    ...(escrowPending ? escrowHeader(account) : {}),
  };
  const answer = (value: unknown, status: number): SimReply => {
    ctx.idmsa.logStep(account.appleId, 'signin-complete', status);
    return idmsaJson(value, status, headers, { cookies });
  };

  if (session.repairPending) return answer({ auth_type: 'sa' }, 412);
  if (needs2fa) {
    const pushesBySideEffect = account.flags.authFlow === '2025' && ctx.settings.autoPushOnSignin;
    if (pushesBySideEffect && !fido && !account.flags.noTrustedDevices) ctx.idmsa.push(account, 'device');
    if (ctx.settings.cassetteMode && !fido) return answer({ auth_type: 'hsa2' }, 200);
    return answer(challengeBody(ctx, account, session.fsaChallenge), 409);
  }
  if (escrowPending) return answer({ authType: 'hsa2' }, 409);
  return answer(twoFactor ? { authType: 'hsa2' } : {}, 200);
}

/** `POST /appleauth/auth/repair/complete` with `{}` (S16 in docs/protocol/simulator-contract.md#sign-in). */
export function repairComplete(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  session.repairPending = false;
  ctx.store.completeRepair(session.id);
  const token = ctx.store.issueSessionToken(session.account, {
    idmsaSessionId: session.id,
    verified: session.verified,
    trusted: session.trusted,
    repairPending: false,
    fidoIncomplete: session.fido,
  });
  return empty(200, {
    headers: {
      ...sessionHeaders(session, token),
      Location: '/auth',
      'Content-Type': 'application/json;charset=UTF-8',
    },
  });
}

/** The legacy endpoint labels its JSON text/html, as recorded. */
const LEGACY_TYPE = 'text/html;charset=UTF-8';

/**
 * Legacy `POST /appleauth/auth/signin` with a raw password (S19 in docs/protocol/simulator-contract.md#sign-in): 503 like Apple today;
 * in cassette mode 200 with `X-Apple-I-Rscd: 401` (wrong password) or `409` (two-factor needed).
 */
export function legacySignin(ctx: AuthContext, req: SimRequest): SimReply {
  if (!ctx.settings.cassetteMode) return throttled();
  const body = asRecord(req.json);
  const account =
    typeof body['accountName'] === 'string' ? ctx.store.account(body['accountName']) : undefined;
  if (!account || body['password'] !== account.password) {
    return idmsaJson(
      {},
      200,
      { ...baseIdmsaHeaders(newScnt()), 'X-Apple-I-Rscd': '401' },
      { contentType: LEGACY_TYPE },
    );
  }
  const session: IdmsaSession = {
    id: newIdmsaSessionId(),
    account,
    scnts: new Set(),
    aasp: req.cookies.get('aasp'),
    needs2fa: account.flags.hsaVersion === 2,
    repairPending: false,
    fido: account.flags.fido,
    verified: account.flags.hsaVersion !== 2,
    trusted: false,
    escrowPending: false,
    escrowHandshake: undefined,
    fsaChallenge: undefined,
    lastActive: ctx.clock.now(),
  };
  ctx.idmsa.addSession(session);
  const token = ctx.store.issueSessionToken(account, {
    idmsaSessionId: session.id,
    verified: session.verified,
    trusted: false,
    repairPending: false,
    fidoIncomplete: session.fido,
  });
  const rscd: Record<string, string> = session.needs2fa ? { 'X-Apple-I-Rscd': '409' } : {};
  return idmsaJson({}, 200, { ...sessionHeaders(session, token), ...rscd }, { contentType: LEGACY_TYPE });
}

/** `GET /appleauth/auth/authorize/signin?...`: the widget page; seeds `scnt` and `aasp` (S20 in docs/protocol/simulator-contract.md#sign-in). */
export function authorizePage(_ctx: AuthContext, req: SimRequest): SimReply {
  return text(
    '<!DOCTYPE html><html><head><title>Sign In with Apple</title></head><body></body></html>',
    200,
    'text/html;charset=UTF-8',
    {
      headers: baseIdmsaHeaders(newScnt()),
      cookies: req.cookies.has('aasp') ? [] : [aaspCookie()],
    },
  );
}

/**
 * `POST /appleauth/auth/federate?isRememberMeEnabled=true` `{"accountName", "rememberMe"}`: the
 * web-flow step between the widget page and `signin/init` (rclone, S20 in
 * docs/protocol/simulator-contract.md#sign-in). It says whether the account signs in at a federated
 * identity provider; simulated accounts never do. No push, no SRP attempt counted.
 */
export function federate(_ctx: AuthContext, _req: SimRequest): SimReply {
  return idmsaJson(
    { showFederatedIdpConfirmation: false, federated: false },
    200,
    baseIdmsaHeaders(newScnt()),
  );
}
