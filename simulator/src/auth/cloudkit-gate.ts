/**
 * Who may call CloudKit (S42-S44, S39 in docs/protocol/simulator-contract.md): the X-APPLE-WEBAUTH-USER and -TOKEN cookies must be
 * present (else 421 naming the missing cookie), the token live (else 401), the host the account's
 * current partition (else 421, as when HTTP/2 lands on the wrong partition). Accepted calls get a
 * rotated X-APPLE-WEBAUTH-TOKEN and Apple's CloudKit headers on their reply.
 */
import { randomUUID } from 'node:crypto';
import type { WebSessionRecord } from '../accounts/store.ts';
import type { Principal, SimReply, SimRequest } from '../types.ts';
import type { AuthContext } from './context.ts';
import { rotatedWebAuthCookie, unquote } from './cookies.ts';

const CK_JSON = 'application/json; charset=UTF-8';

export type CloudKitAdmission =
  | {
      readonly ok: true;
      readonly principal: Principal;
      readonly session: WebSessionRecord;
      readonly sentToken: string;
      readonly requestUuid: string;
    }
  | { readonly ok: false; readonly reply: SimReply };

const ckError = (status: number, value: unknown, requestUuid: string): SimReply => ({
  status,
  headers: { 'X-Apple-Request-UUID': requestUuid, 'X-Apple-CloudKit-Version': '1.0' },
  body: { kind: 'json', value, contentType: CK_JSON },
});

const missingCookie = (name: string, uuid: string) =>
  ckError(421, { reason: `Missing ${name} cookie`, error: 1 }, uuid);

export function admitCloudKit(ctx: AuthContext, req: SimRequest, hostPartition: number): CloudKitAdmission {
  const requestUuid = randomUUID();
  const user = req.cookies.get('X-APPLE-WEBAUTH-USER');
  if (!user) return { ok: false, reply: missingCookie('X-APPLE-WEBAUTH-USER', requestUuid) };
  const token = req.cookies.get('X-APPLE-WEBAUTH-TOKEN');
  if (!token) return { ok: false, reply: missingCookie('X-APPLE-WEBAUTH-TOKEN', requestUuid) };
  const check = ctx.store.checkWebToken(token);
  const authFailed = ckError(
    401,
    { uuid: requestUuid, serverErrorCode: 'AUTHENTICATION_FAILED', reason: 'Authentication failed' },
    requestUuid,
  );
  if (!check.ok) return { ok: false, reply: authFailed };
  const { session, account } = check;
  if (!session.authorized || !unquote(user).endsWith(`d=${account.dsid}`))
    return { ok: false, reply: authFailed };
  if (hostPartition !== account.partition) {
    return { ok: false, reply: missingCookie('X-APPLE-WEBAUTH-USER', requestUuid) };
  }
  if (session.fidoIncomplete) {
    return {
      ok: false,
      reply: ckError(
        401,
        { uuid: requestUuid, serverErrorCode: 'AUTHENTICATION_FAILED', reason: 'no auth method found' },
        requestUuid,
      ),
    };
  }
  if (!account.flags.isWebAccessAllowed || (account.flags.iCDPEnabled && !session.pcsGranted)) {
    return {
      ok: false,
      reply: ckError(
        403,
        {
          uuid: requestUuid,
          serverErrorCode: 'ACCESS_DENIED',
          reason: 'private db access disabled for this account',
        },
        requestUuid,
      ),
    };
  }
  return {
    ok: true,
    principal: {
      appleId: account.appleId,
      dsid: account.dsid,
      userRecordName: account.userRecordName,
      partition: account.partition,
    },
    session,
    sentToken: token,
    requestUuid,
  };
}

/** Adds the rotated credential cookie and Apple's CloudKit headers to an admitted call's reply. */
export function decorateCloudKitReply(
  ctx: AuthContext,
  admitted: Extract<CloudKitAdmission, { ok: true }>,
  reply: SimReply,
): SimReply {
  const next = ctx.store.rotateWebToken(admitted.session, admitted.sentToken);
  return {
    ...reply,
    headers: {
      ...reply.headers,
      'X-Apple-CloudKit-Version': '1.0',
      'X-Apple-Request-UUID': admitted.requestUuid,
      'x-apple-user-partition': String(admitted.principal.partition),
    },
    cookies: [...(reply.cookies ?? []), rotatedWebAuthCookie(next)],
  };
}
