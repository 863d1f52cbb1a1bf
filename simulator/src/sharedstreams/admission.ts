/**
 * Who may call sharedstreams: the same `.icloud.com` cookies that authorise CloudKit (SA-3). A
 * missing, unknown, expired or not yet trusted web session answers 401 (what one client maps to
 * "session expired"); Apple's body is unknown, the simulator sends `{}`. Tokens are not rotated
 * (unknown for this service).
 */
import type { AuthContext } from '../auth/context.ts';
import { unquote } from '../auth/cookies.ts';
import type { Principal, SimReply, SimRequest } from '../types.ts';
import { json } from '../types.ts';

export type SharedStreamsAdmission =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reply: SimReply };

const unauthorized = (): SharedStreamsAdmission => ({ ok: false, reply: json({}, 401) });

export function admitSharedStreams(ctx: AuthContext, req: SimRequest): SharedStreamsAdmission {
  const user = req.cookies.get('X-APPLE-WEBAUTH-USER');
  const token = req.cookies.get('X-APPLE-WEBAUTH-TOKEN');
  if (!user || !token) return unauthorized();
  const check = ctx.store.checkWebToken(token);
  if (!check.ok) return unauthorized();
  const { session, account } = check;
  if (!session.authorized || session.fidoIncomplete || !unquote(user).endsWith(`d=${account.dsid}`)) {
    return unauthorized();
  }
  return {
    ok: true,
    principal: {
      appleId: account.appleId,
      dsid: account.dsid,
      userRecordName: account.userRecordName,
      partition: account.partition,
    },
  };
}
