/**
 * The claim of icloud-photos-sync PR #1104 (unverified; rclone works with exactly these headers):
 * `verify/*` and `2sv/trust` refuse the idmsa header profile. Off by default, as no capture shows
 * Apple doing it (S134); an account with `rejectIdmsaProfileOnVerify` plays it so that a client can be
 * tested against it. The status is unknown; 400 as the addendum suggests.
 */

import { newScnt } from '../accounts/tokens.ts';
import type { SimReply, SimRequest } from '../types.ts';
import type { AuthContext } from './context.ts';
import { baseIdmsaHeaders, findIdmsaSession, idmsaJson } from './idmsa-common.ts';

const PROFILE_HEADERS = [
  'x-apple-i-fd-client-info',
  'x-apple-fd-client-info',
  'x-apple-auth-attributes',
  'x-apple-offer-security-upgrade',
];

/** The 400 for a request in the refused profile, or undefined when the request may go on. */
export function refusedHeaderProfile(ctx: AuthContext, req: SimRequest, key: string): SimReply | undefined {
  if (!key.startsWith('verify/') && key !== '2sv/trust') return undefined;
  const session = findIdmsaSession(ctx, req);
  if (!session?.account.flags.rejectIdmsaProfileOnVerify) return undefined;
  const idmsaOrigin = req.headers['origin'] === 'https://idmsa.apple.com';
  if (!idmsaOrigin && !PROFILE_HEADERS.some((h) => req.headers[h] !== undefined)) return undefined;
  return idmsaJson({}, 400, baseIdmsaHeaders(newScnt()));
}
