/**
 * The setup service (docs/protocol/sign-in.md#accountlogin, docs/protocol/session.md#validate-and-reuse): `accountLogin` turns an IdMSA session token into the
 * `.icloud.com` web session CloudKit accepts; `validate` checks that web session.
 */
import { RateLimitedError, SessionExpiredError, UnexpectedResponseError } from '#domain/errors.ts';
import { rejected } from './account-conditions.ts';
import { type AccountInfo, readAccountDocument } from './account-document.ts';
import { appleErrorsOf, describeAppleErrors, effectiveStatus, jsonOrUndefined } from './apple-signals.ts';
import type { AuthContext } from './auth-context.ts';

/** Statuses with which setup says "this session is not (or no longer) signed in". */
const SESSION_GONE = new Set([401, 421, 450, 500]);

/** `POST accountLogin` with the stored session and trust tokens; records dsid and CloudKit URL. */
export async function accountLogin(ctx: AuthContext): Promise<AccountInfo> {
  const { sessionToken, trustToken, accountCountry } = ctx.session.fields;
  if (!sessionToken) throw new SessionExpiredError('no iCloud session token is stored');
  const response = await ctx.http.send({
    method: 'POST',
    url: `${ctx.endpoint.setupBase}/accountLogin`,
    json: {
      accountCountryCode: accountCountry ?? '',
      dsWebAuthToken: sessionToken,
      extended_login: true,
      trustToken: trustToken ?? '',
    },
  });
  return readSetupAnswer(ctx, response, 'accountLogin');
}

/** `POST validate` with body `null`: the account document when the cookies still work, else undefined. */
export async function validateSession(ctx: AuthContext): Promise<AccountInfo | undefined> {
  const response = await ctx.http.send({
    method: 'POST',
    url: `${ctx.endpoint.setupBase}/validate`,
    body: 'null',
    headers: { 'Content-Type': 'application/json' },
  });
  if (SESSION_GONE.has(effectiveStatus(response))) {
    await response.text();
    return undefined;
  }
  return readSetupAnswer(ctx, response, 'validate');
}

async function readSetupAnswer(
  ctx: AuthContext,
  response: Parameters<typeof effectiveStatus>[0],
  step: string,
): Promise<AccountInfo> {
  const status = effectiveStatus(response);
  const body = await jsonOrUndefined(response);
  if (SESSION_GONE.has(status)) {
    throw new SessionExpiredError(
      `Apple no longer accepts the stored iCloud session (HTTP ${status} at ${step})`,
    );
  }
  if (status === 429 || status === 503) {
    throw new RateLimitedError(`Apple is throttling ${step} (HTTP ${status})`);
  }
  if (status !== 200) throw new UnexpectedResponseError(`${step} answered HTTP ${status}`);
  if (body === undefined) throw new UnexpectedResponseError(`${step} answered a body that is not JSON`);
  const errors = appleErrorsOf(body);
  // A 200 with success:false but a readable account document is still an account (domainToUse etc.).
  const hasAccount = typeof body === 'object' && body !== null && ('dsInfo' in body || 'domainToUse' in body);
  if (errors.length && !hasAccount) throw rejected(step, describeAppleErrors(errors));
  const account = readAccountDocument(body);
  ctx.session.update({
    dsid: account.dsid,
    ckdatabasewsUrl: account.ckdatabasewsUrl,
    // Undefined removes a stale one: the account no longer lists the service.
    sharedstreamsUrl: account.sharedstreamsUrl,
    lastValidatedAt: ctx.now(),
  });
  return account;
}
