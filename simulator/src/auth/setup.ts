/**
 * The setup service (`setup.icloud.com/setup/ws/1/...`, docs/protocol/sign-in.md#accountlogin, docs/protocol/session.md#validate-and-reuse, docs/protocol/sign-in.md#advanced-data-protection, S32-S40 in docs/protocol/simulator-contract.md#setup-service):
 * `accountLogin` turns an IdMSA session token into a web session (the `.icloud.com` cookies),
 * `validate` checks a stored cookie jar, `requestPCS` plays the ADP approval, `logout` ends a session.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AccountRecord } from '../accounts/account.ts';
import type { WebSessionRecord } from '../accounts/store.ts';
import { newOpaque, newWebAuthValue } from '../accounts/tokens.ts';
import type { SimCookie, SimReply, SimRequest } from '../types.ts';
import { json } from '../types.ts';
import { accountDocument } from './account-document.ts';
import type { AuthContext } from './context.ts';
import { icloudCookie } from './cookies.ts';

const SETUP_JSON = 'application/json; charset=UTF-8';
const PCS_SERVICES = ['Cloudkit', 'Documents', 'Mail', 'News', 'Notes', 'Photos', 'Safari', 'Sharing'];

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export function setupHeaders(partition?: number): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': 'https://www.icloud.com',
    'Access-Control-Allow-Credentials': 'true',
    'Cache-Control': 'no-cache, no-store, private',
    'X-Apple-Request-UUID': randomUUID(),
    'X-Apple-Edge-Response-Time': '1',
    ...(partition === undefined ? {} : { 'x-apple-user-partition': String(partition) }),
  };
}

const setupJson = (value: unknown, status: number, partition?: number, cookies?: SimCookie[]): SimReply => ({
  status,
  headers: setupHeaders(partition),
  ...(cookies ? { cookies } : {}),
  body: { kind: 'json', value, contentType: SETUP_JSON },
});

/** `421` with a setup-style body (S36, S38 in docs/protocol/simulator-contract.md#setup-service). */
export const setupError = (error: string, status = 421): SimReply =>
  setupJson({ success: false, error }, status);

const kbName = (account: AccountRecord): string =>
  `X_APPLE_WEB_KB-${createHash('sha1')
    .update(account.dsid)
    .digest('base64')
    .replace(/[^A-Z0-9]/gi, '')
    .toUpperCase()
    .slice(0, 27)}`;

/** Cookies that carry a live web session: the CloudKit credential and the PCS service cookies. */
function credentialCookies(session: WebSessionRecord): SimCookie[] {
  const cookies: SimCookie[] = [
    icloudCookie('X-APPLE-WEBAUTH-VALIDATE', newWebAuthValue(1), undefined, false),
    icloudCookie('X-APPLE-WEBAUTH-TOKEN', session.current, session.expiresAt),
    icloudCookie('X-APPLE-DS-WEB-SESSION-TOKEN', `"${newOpaque(48)}"`, session.expiresAt),
  ];
  if (session.pcsGranted) cookies.unshift(...pcsCookies(session));
  return cookies;
}

const pcsCookies = (session: WebSessionRecord): SimCookie[] =>
  PCS_SERVICES.map((s) => icloudCookie(`X-APPLE-WEBAUTH-PCS-${s}`, `"${newOpaque(48)}"`, session.expiresAt));

/** The cookies of S35 in docs/protocol/simulator-contract.md#setup-service. */
function loginCookies(ctx: AuthContext, account: AccountRecord, session: WebSessionRecord): SimCookie[] {
  const now = ctx.clock.now();
  const cookies: SimCookie[] = [
    icloudCookie('X-APPLE-UNIQUE-CLIENT-ID', `"${newOpaque(12)}"`, undefined, false),
    icloudCookie('X-APPLE-WEBAUTH-LOGIN', newWebAuthValue(1)),
    icloudCookie('X-APPLE-WEBAUTH-VALIDATE', newWebAuthValue(1), undefined, false),
    icloudCookie('X-APPLE-WEBAUTH-HSA-LOGIN', newWebAuthValue(2)),
    icloudCookie('X-APPLE-WEBAUTH-USER', `"v=1:s=1:d=${account.dsid}"`, session.expiresAt),
    icloudCookie(kbName(account), newWebAuthValue(1), now + 60 * 86_400_000),
    icloudCookie('X-APPLE-DS-WEB-SESSION-TOKEN', `"${newOpaque(48)}"`, session.expiresAt),
  ];
  if (session.authorized) {
    cookies.push(icloudCookie('X-APPLE-WEBAUTH-TOKEN', session.current, session.expiresAt));
    if (session.pcsGranted) cookies.push(...pcsCookies(session));
  }
  if (session.trusted) {
    cookies.push(
      icloudCookie(
        `X-APPLE-WEBAUTH-HSA-TRUST-${account.dsid}`,
        newWebAuthValue(1),
        now + ctx.store.lifetimes.trustTokenMs,
      ),
    );
  }
  return cookies;
}

/** `POST accountLogin` (S32-S37 in docs/protocol/simulator-contract.md#setup-service). */
export function accountLogin(ctx: AuthContext, req: SimRequest): SimReply {
  const body = asRecord(req.json);
  const dsWebAuthToken = typeof body['dsWebAuthToken'] === 'string' ? body['dsWebAuthToken'] : '';
  const found = ctx.store.sessionToken(dsWebAuthToken);
  if (!found || found.record.repairPending) return setupError('Invalid dsWebAuthToken');
  const { record, account } = found;
  if (account.flags.domainToUse) {
    return setupJson({ success: false, domainToUse: account.flags.domainToUse }, 200);
  }
  const trustToken = typeof body['trustToken'] === 'string' ? body['trustToken'] : '';
  // A skipped escrow counts only with `escrowEnforced` (S133 b); by default accountLogin trusts as
  // openHAB observed (S133 a).
  const escrowBlocks = account.flags.escrowEnforced && record.escrowPending === true;
  const trusted =
    !escrowBlocks &&
    (record.trusted || (trustToken !== '' && ctx.store.trustTokenValid(account, trustToken)));
  const twoFactor = account.flags.hsaVersion === 2;
  const verified = !escrowBlocks && (record.verified || (trusted && !account.flags.fido));
  const challengeRequired = twoFactor && !verified;
  const session = ctx.store.createWebSession(account, {
    authorized: account.flags.hsaVersion === 0 || !challengeRequired,
    trusted,
    fidoIncomplete: record.fidoIncomplete,
  });
  const doc = accountDocument(account, {
    hsaChallengeRequired: challengeRequired || (account.flags.hsaVersion === 1 && !trusted),
    hsaTrustedBrowser: trusted,
    isExtendedLogin: body['extended_login'] !== false,
  });
  ctx.idmsa.logStep(account.appleId, 'account-login', 200);
  return setupJson(doc, 200, account.partition, loginCookies(ctx, account, session));
}

/** The web session named by the request's X-APPLE-WEBAUTH-TOKEN cookie, if it is live. */
function cookieSession(ctx: AuthContext, req: SimRequest) {
  const value = req.cookies.get('X-APPLE-WEBAUTH-TOKEN');
  if (!value) return undefined;
  const check = ctx.store.checkWebToken(value);
  return check.ok ? check : undefined;
}

/** `POST validate` with body `null` (S38 in docs/protocol/simulator-contract.md#setup-service). */
export function validate(ctx: AuthContext, req: SimRequest): SimReply {
  const found = cookieSession(ctx, req);
  if (!found) return setupError('Missing X-APPLE-WEBAUTH-TOKEN cookie');
  const { session, account } = found;
  const doc = accountDocument(account, {
    hsaChallengeRequired: false,
    hsaTrustedBrowser: session.trusted,
    isExtendedLogin: true,
  });
  return setupJson(doc, 200, account.partition, credentialCookies(session));
}

/**
 * `POST requestPCS` (S40 in docs/protocol/simulator-contract.md#setup-service): accounts without ADP get the PCS cookies at once; ADP accounts
 * answer `failure` (device arming, upload requested, not yet available) until the simulated device
 * approves after `pcsPollsBeforeApproval` polls.
 */
export function requestPcs(ctx: AuthContext, req: SimRequest, polls: Map<string, number>): SimReply {
  const found = cookieSession(ctx, req);
  if (!found) return setupError('Missing X-APPLE-WEBAUTH-TOKEN cookie', 500);
  const { session, account } = found;
  if (!account.flags.isWebAccessAllowed) {
    return setupJson(
      { isWebAccessAllowed: false, status: 'failure', message: 'Web access is disabled.' },
      200,
      account.partition,
    );
  }
  if (!session.pcsGranted) {
    const n = (polls.get(session.id) ?? 0) + 1;
    polls.set(session.id, n);
    if (n <= ctx.settings.pcsPollsBeforeApproval) {
      const messages = [
        'Requested a new device arming to upload cookies.',
        'Requested the device to upload cookies.',
        'Cookies not available yet on server.',
      ];
      const message = messages[Math.min(n, messages.length) - 1];
      return setupJson({ isWebAccessAllowed: true, status: 'failure', message }, 200, account.partition);
    }
    session.pcsGranted = true;
    ctx.store.changed();
  }
  return setupJson(
    { isWebAccessAllowed: true, status: 'success', message: 'Cookies attached.' },
    200,
    account.partition,
    pcsCookies(session).filter((c) => c.name.endsWith('-Photos') || c.name.endsWith('-Sharing')),
  );
}

/**
 * A ready, trusted web session for tests that skip sign-in (`POST /__sim/session`): the cookies
 * accountLogin would set after two-factor and trust, plus a trust token and a session token for
 * headless reuse.
 */
export function mintTrustedSession(ctx: AuthContext, account: AccountRecord) {
  const trustToken = ctx.store.issueTrustToken(account);
  const sessionToken = ctx.store.issueSessionToken(account, {
    idmsaSessionId: 'control',
    verified: true,
    trusted: true,
    repairPending: false,
    fidoIncomplete: account.flags.fido,
  });
  const session = ctx.store.createWebSession(account, {
    authorized: true,
    trusted: true,
    fidoIncomplete: account.flags.fido,
  });
  return { cookies: loginCookies(ctx, account, session), trustToken, sessionToken, session };
}

/** `POST logout`: ends the web session of the cookie jar. */
export function logout(ctx: AuthContext, req: SimRequest): SimReply {
  const found = cookieSession(ctx, req);
  if (found) {
    found.session.expiresAt = ctx.clock.now();
    ctx.store.changed();
  }
  return json({ success: true }, 200, { headers: setupHeaders() });
}
