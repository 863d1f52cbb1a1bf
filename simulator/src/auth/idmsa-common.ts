/** Response headers and session lookup shared by the IdMSA handlers (spec §2.2, §2.3). */
import { randomUUID } from 'node:crypto';
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

/** Rotates the session's `scnt` and returns the headers that carry session state (statement 15). */
export function sessionHeaders(s: IdmsaSession, sessionToken: string | undefined): Record<string, string> {
  const scnt = newScnt();
  s.scnts.add(scnt);
  return {
    ...baseIdmsaHeaders(scnt),
    'X-Apple-ID-Session-Id': s.id,
    ...(sessionToken ? { 'X-Apple-Session-Token': sessionToken } : {}),
    'X-Apple-ID-Account-Country': s.account.countryCode,
    'X-Apple-TwoSV-Trust-Eligible': 'true',
    'X-Apple-Auth-Attributes': newOpaque(18),
  };
}

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

/** True when the request carries the icloud.com widget key (statement 17). */
export function hasWidgetKey(req: SimRequest, widgetKey: string): boolean {
  return (
    req.headers['x-apple-widget-key'] === widgetKey || req.headers['x-apple-oauth-client-id'] === widgetKey
  );
}

/**
 * The IdMSA session a request acts on: by `X-Apple-ID-Session-Id` (+ a `scnt` it was given, when
 * strict), else (lenient only) by the `aasp` cookie or the most recent session.
 */
export function findIdmsaSession(ctx: AuthContext, req: SimRequest): IdmsaSession | undefined {
  const id = req.headers['x-apple-id-session-id'];
  const scnt = req.headers['scnt'];
  if (id) {
    const s = ctx.idmsa.session(id);
    if (!s) return undefined;
    if (ctx.settings.strictIdmsaHeaders && (scnt === undefined || !s.scnts.has(scnt))) return undefined;
    s.lastActive = ctx.clock.now();
    return s;
  }
  if (ctx.settings.strictIdmsaHeaders) return undefined;
  const aasp = req.cookies.get('aasp');
  return (aasp ? ctx.idmsa.sessionByAasp(aasp) : undefined) ?? ctx.idmsa.latestSession;
}

/** Apple's answer to a request whose auth context is missing or stale. */
export const staleContext = (): SimReply => idmsaJson({}, 401, baseIdmsaHeaders(newScnt()));
