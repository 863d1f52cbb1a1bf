/**
 * Escrow (S129-S133): a second SRP password proof that accounts flagged `EDP`/`PDP` require after an
 * accepted code or a trust-token sign-in. `escrow/init` runs signin/init's handshake with the empty
 * user name; `escrow/complete` checks M1 (user name `""`), M2 and `k = base64(K)`, then issues a new
 * session token and clears the pending escrow. No escrow exchange with Apple has been published: the
 * statuses of the failures are the simulator's choice (docs/protocol/sign-in.md).
 */
import { newSrpChallenge } from '../accounts/tokens.ts';
import type { SimReply, SimRequest } from '../types.ts';
import type { AuthContext } from './context.ts';
import {
  findIdmsaSession,
  idmsaJson,
  sessionBaseHeaders,
  sessionHeaders,
  staleContext,
} from './idmsa-common.ts';
import { bytesOf, expectedProofs, intOf, proofMatches, randomSecret, serverPublic } from './srp.ts';
import { logged } from './twofa.ts';

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

const b64 = (v: unknown): Buffer => (typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.alloc(0));

/** `POST /appleauth/auth/escrow/init` `{"a", "accountName": "", "protocols"}` → 200 `{iteration, salt, protocol, b, c}`. */
export function escrowInit(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  const body = asRecord(req.json);
  const a = b64(body['a']);
  const badRequest = () => idmsaJson({}, 400, sessionBaseHeaders(session));
  if (!session.escrowPending || body['accountName'] !== '' || a.length === 0) {
    return logged(ctx, session, 'escrow-init', badRequest());
  }
  const { srp } = session.account;
  const salt = Buffer.from(srp.salt, 'base64');
  const v = intOf(Buffer.from(srp.verifier, 'hex'));
  const b = randomSecret();
  const B = serverPublic(b, v);
  const c = newSrpChallenge();
  session.escrowHandshake = { c, salt, A: intOf(a), b, B, v };
  return logged(
    ctx,
    session,
    'escrow-init',
    idmsaJson(
      {
        iteration: srp.iterations,
        salt: srp.salt,
        protocol: srp.protocol,
        b: bytesOf(B).toString('base64'),
        c,
      },
      200,
      sessionBaseHeaders(session),
    ),
  );
}

/** `POST /appleauth/auth/escrow/complete` `{"m1", "m2", "c", "k"}` → 200 + new `X-Apple-Session-Token`, or 401. */
export function escrowComplete(ctx: AuthContext, req: SimRequest): SimReply {
  const session = findIdmsaSession(ctx, req);
  if (!session) return staleContext();
  const body = asRecord(req.json);
  const handshake = session.escrowHandshake;
  session.escrowHandshake = undefined;
  const failed = () =>
    logged(ctx, session, 'escrow-complete', idmsaJson({}, 401, sessionBaseHeaders(session)));
  if (!handshake || body['c'] !== handshake.c) return failed();
  const sent = { m1: b64(body['m1']), m2: b64(body['m2']), k: b64(body['k']) };
  const input = { accountName: '', ...handshake };
  // Either padding of A/B/S is accepted: Apple's choice is not known (rclone pads, docs/protocol/sign-in.md#srp does not).
  const matches = [expectedProofs(input), expectedProofs(input, { padded: true })].some(
    (p) =>
      p !== undefined &&
      proofMatches(p.m1, sent.m1) &&
      proofMatches(p.m2, sent.m2) &&
      proofMatches(p.K, sent.k),
  );
  if (!matches) return failed();
  session.escrowPending = false;
  const token = ctx.store.issueSessionToken(session.account, {
    idmsaSessionId: session.id,
    verified: session.verified,
    trusted: session.trusted,
    repairPending: session.repairPending,
    fidoIncomplete: session.fido,
    escrowPending: false,
  });
  return logged(ctx, session, 'escrow-complete', idmsaJson({}, 200, sessionHeaders(session, token)));
}
