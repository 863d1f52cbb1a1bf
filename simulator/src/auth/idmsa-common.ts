/** Response headers and session lookup shared by the IdMSA handlers (docs/protocol/sign-in.md#request-headers, docs/protocol/session.md#session-headers). */
import { randomUUID } from 'node:crypto';
import type { AccountRecord } from '../accounts/account.ts';
import { newOpaque, newScnt } from '../accounts/tokens.ts';
import type { SimCookie, SimReply, SimRequest } from '../types.ts';
import type { AuthContext } from './context.ts';
import type { IdmsaSession } from './idmsa-state.ts';

export const IDMSA_JSON = 'application/json;charset=UTF-8';

/** Headers every IdMSA response carries. */
export function baseIdmsaHeaders(scnt: string): Record<string, string> {
  return {
    'Cache-Control': 'no-cache, no-store',
    Pragma: 'no-cache',
    'X-Apple-I-Request-ID': randomUUID(),
    scnt,
  };
}

/** The base headers with a fresh `scnt` that this session will accept back. */
export function sessionBaseHeaders(s: IdmsaSession): Record<string, string> {
  const scnt = newScnt();
  s.scnts.add(scnt);
  return baseIdmsaHeaders(scnt);
}

/**
 * Rotates the session's `scnt` and returns the headers that carry session state (S15 in docs/protocol/simulator-contract.md#sign-in).
 * `trustEligible: false` leaves out `X-Apple-TwoSV-Trust-Eligible` (the escrow 409 of a trust-token
 * sign-in carries `X-Apple-EDP`/`X-Apple-PDP` instead).
 */
export function sessionHeaders(
  s: IdmsaSession,
  sessionToken: string | undefined,
  options: { readonly trustEligible?: boolean } = {},
): Record<string, string> {
  const scnt = newScnt();
  s.scnts.add(scnt);
  return {
    ...baseIdmsaHeaders(scnt),
    'X-Apple-ID-Session-Id': s.id,
    ...(sessionToken ? { 'X-Apple-Session-Token': sessionToken } : {}),
    'X-Apple-ID-Account-Country': s.account.countryCode,
    ...(options.trustEligible === false ? {} : { 'X-Apple-TwoSV-Trust-Eligible': 'true' }),
    'X-Apple-Auth-Attributes': newOpaque(18),
  };
}

/** The escrow header an account's flag asks for (`X-Apple-Edp: true` or `X-Apple-PDP: true`). */
export function escrowHeader(account: AccountRecord): Record<string, string> {
  if (account.flags.escrow === 'EDP') return { 'X-Apple-Edp': 'true' };
  if (account.flags.escrow === 'PDP') return { 'X-Apple-PDP': 'true' };
  return {};
}

/** Whether the strict IdMSA header checks apply to this account (its flag, else the global setting). */
export const strictHeadersFor = (ctx: AuthContext, account: AccountRecord | undefined): boolean =>
  account?.flags.strictIdmsaHeaders ?? ctx.settings.strictIdmsaHeaders;

/** A JSON reply as IdMSA sends it (`application/json;charset=UTF-8` unless told otherwise). */
export const idmsaJson = (
  value: unknown,
  status: number,
  headers: Record<string, string>,
  options: { readonly cookies?: SimCookie[]; readonly contentType?: string } = {},
): SimReply => ({
  status,
  headers,
  ...(options.cookies ? { cookies: options.cookies } : {}),
  body: { kind: 'json', value, contentType: options.contentType ?? IDMSA_JSON },
});

/** True when the request carries the icloud.com widget key (S17 in docs/protocol/simulator-contract.md#sign-in). */
export function hasWidgetKey(req: SimRequest, widgetKey: string): boolean {
  return (
    req.headers['x-apple-widget-key'] === widgetKey || req.headers['x-apple-oauth-client-id'] === widgetKey
  );
}

/**
 * The IdMSA session a request acts on. By `X-Apple-ID-Session-Id`: the session id, or (icloudpd's
 * habit) the value of the session's `X-Apple-Session-Token`; else by the `aasp` cookie the session
 * was signed in with. When strict headers apply to the account, only the session id itself counts and
 * the request must echo a `scnt` that session handed out.
 */
export function findIdmsaSession(ctx: AuthContext, req: SimRequest): IdmsaSession | undefined {
  const id = req.headers['x-apple-id-session-id'];
  const scnt = req.headers['scnt'];
  const byId = id ? ctx.idmsa.session(id) : undefined;
  if (byId && strictHeadersFor(ctx, byId.account)) {
    if (scnt === undefined || !byId.scnts.has(scnt)) return undefined;
    return touch(ctx, byId);
  }
  if (byId) return touch(ctx, byId);
  const byToken = id ? sessionOfToken(ctx, id) : undefined;
  const aasp = req.cookies.get('aasp');
  const found = byToken ?? (aasp ? ctx.idmsa.sessionByAasp(aasp) : undefined);
  if (!found || strictHeadersFor(ctx, found.account)) return undefined;
  return touch(ctx, found);
}

const touch = (ctx: AuthContext, s: IdmsaSession): IdmsaSession => {
  s.lastActive = ctx.clock.now();
  return s;
};

/** The IdMSA session that issued a live `X-Apple-Session-Token`. */
function sessionOfToken(ctx: AuthContext, token: string): IdmsaSession | undefined {
  const found = ctx.store.sessionToken(token);
  return found ? ctx.idmsa.session(found.record.idmsaSessionId) : undefined;
}

/** Apple's answer to a request whose auth context is missing or stale. */
export const staleContext = (): SimReply => idmsaJson({}, 401, baseIdmsaHeaders(newScnt()));
