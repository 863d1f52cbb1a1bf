/**
 * The first step of the trusted-device bridge (S137), as far as the shortcut of icloudpd PR #1327 and
 * kei v0.5.1 uses it: `POST bridge/step/0 {"sessionUUID", "ptkn"}` answers 200 and the devices show a
 * code. The simulator runs no push websocket, so no push token it issued exists: every code shown
 * this way belongs to a bridge session no verifier knows, and `verify/trusteddevice/securitycode`
 * refuses it with -21669, as Apple did. The full bridge (S138) is not modelled.
 */
import type { SimReply, SimRequest } from '../types.ts';
import type { AuthContext } from './context.ts';
import { findIdmsaSession, idmsaJson, sessionBaseHeaders, staleContext } from './idmsa-common.ts';
import { logged } from './twofa.ts';

export function bridgeStep0(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  if (!session.account.flags.fido) ctx.idmsa.showUnusableCode(session.account);
  return logged(ctx, session, 'bridge-step', idmsaJson({}, 200, sessionBaseHeaders(session)));
}
