/**
 * Escrow (docs/protocol/sign-in.md, 2026): when Apple marks a 409 with `X-Apple-Edp` or
 * `X-Apple-Pdp`, it wants a second SRP proof of the password before it trusts the session. The
 * handshake is `signin/init` + `signin/complete` again under other paths, with an empty account
 * name (M1 uses H("")) and the session key K sent along: `escrow/init {a, accountName: "",
 * protocols}` -> `{iteration, salt, protocol, b, c}`, then `escrow/complete {m1, m2, c, k}` -> 2xx
 * with a new `X-Apple-Session-Token`.
 */
import type { Secret } from '#shared/redact.ts';
import type { IcloudHttpResponse } from '../http/types.ts';
import { rejected } from './account-conditions.ts';
import { appleErrorsOf, describeAppleErrors, jsonOrUndefined } from './apple-signals.ts';
import { type AuthContext, idmsaHeaders } from './auth-context.ts';
import { bigIntToBytes, createClientEphemeral } from './srp.ts';
import { proveSrp, readSrpAnswer } from './srp-answer.ts';
import { recordThrottle } from './throttle.ts';

export type EscrowKind = 'EDP' | 'PDP';

/** Which escrow an answer asks for: `X-Apple-Edp: true` or `X-Apple-Pdp: true` (any case). */
export function escrowRequested(response: Pick<IcloudHttpResponse, 'headers'>): EscrowKind | undefined {
  const yes = (name: string) => response.headers.get(name)?.trim().toLowerCase() === 'true';
  if (yes('x-apple-edp')) return 'EDP';
  if (yes('x-apple-pdp')) return 'PDP';
  return undefined;
}

/** Runs the escrow handshake; afterwards the session holds the new session token. */
export async function completeEscrow(ctx: AuthContext, password: Secret<string>): Promise<void> {
  const ephemeral = createClientEphemeral();
  const init = await ctx.http.send({
    method: 'POST',
    url: `${ctx.endpoint.authBase}/escrow/init`,
    headers: idmsaHeaders(ctx),
    json: { a: bigIntToBytes(ephemeral.A).toString('base64'), accountName: '', protocols: ['s2k', 's2k_fo'] },
  });
  if (init.status === 429 || init.status === 503) throw recordThrottle(ctx, init, 'escrow/init');
  const initBody = await jsonOrUndefined(init);
  if (init.status !== 200) {
    throw rejected('escrow/init', `HTTP ${init.status}, ${describeAppleErrors(appleErrorsOf(initBody))}`);
  }
  const answer = readSrpAnswer(initBody, 'escrow/init');
  const proof = proveSrp(ephemeral, answer, '', password);
  const before = ctx.session.fields.sessionToken;
  const complete = await ctx.http.send({
    method: 'POST',
    url: `${ctx.endpoint.authBase}/escrow/complete`,
    headers: idmsaHeaders(ctx),
    json: {
      m1: proof.M1.toString('base64'),
      m2: proof.M2.toString('base64'),
      c: answer.c,
      k: proof.K.toString('base64'),
    },
  });
  const body = await jsonOrUndefined(complete);
  if (complete.status < 200 || complete.status >= 300) {
    throw rejected('escrow/complete', `HTTP ${complete.status}, ${describeAppleErrors(appleErrorsOf(body))}`);
  }
  const after = ctx.session.fields.sessionToken;
  if (!complete.headers.get('x-apple-session-token') || after === before) {
    ctx.logger.warn('escrow completed without a new session token', { status: complete.status });
  }
}
