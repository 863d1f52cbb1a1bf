/**
 * What every sign-in step shares: the HTTP transport, the live session, the endpoint, a clock and
 * a logger; plus the IdMSA header set of docs/protocol/sign-in.md#request-headers.
 */
import type { Logger } from '#shared/logger.ts';
import type { IcloudEndpoint } from '../endpoints.ts';
import type { IcloudHttp } from '../http/types.ts';
import type { IcloudSession } from '../session/icloud-session.ts';

export interface AuthContext {
  readonly http: IcloudHttp;
  readonly session: IcloudSession;
  readonly endpoint: IcloudEndpoint;
  readonly logger: Logger;
  readonly now: () => number;
}

/** The public web widget key of icloud.com (docs/protocol/sign-in.md#request-headers). */
export const WIDGET_KEY = 'd39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d';

/** Headers Apple expects on IdMSA requests; `scnt` and the session id only once Apple gave them. */
export function idmsaHeaders(
  ctx: AuthContext,
  accept = 'application/json, text/javascript',
): Record<string, string> {
  const { scnt, sessionId } = ctx.session.fields;
  return {
    Accept: accept,
    'X-Apple-OAuth-Client-Id': WIDGET_KEY,
    'X-Apple-OAuth-Client-Type': 'firstPartyAuth',
    'X-Apple-OAuth-Redirect-URI': ctx.endpoint.home,
    'X-Apple-OAuth-Require-Grant-Code': 'true',
    'X-Apple-OAuth-Response-Mode': 'web_message',
    'X-Apple-OAuth-Response-Type': 'code',
    'X-Apple-OAuth-State': ctx.session.clientId,
    'X-Apple-Widget-Key': WIDGET_KEY,
    ...(scnt ? { scnt } : {}),
    ...(sessionId ? { 'X-Apple-ID-Session-Id': sessionId } : {}),
  };
}

/**
 * The IdMSA headers for `verify/*` and `2sv/trust`, sent with the icloud.com Origin and none of
 * the browser extras (kei's profile). Apple accepts this and the idmsa Origin alike in 2026; this
 * one also passes the stricter check one peer claims (icloud-photos-sync PR #1104, unverified), see
 * docs/protocol/sign-in.md.
 */
export function verifyHeaders(ctx: AuthContext, accept: string): Record<string, string> {
  return { ...idmsaHeaders(ctx, accept), Origin: ctx.endpoint.home, Referer: `${ctx.endpoint.home}/` };
}
