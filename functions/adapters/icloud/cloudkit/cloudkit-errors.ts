/**
 * CloudKit's three levels of errors (docs/protocol/cloudkit.md#errors) as the domain's error classes. Messages carry
 * Apple's code and reason, never tokens, cookies or URLs.
 */
import {
  AccountConditionError,
  PHOTOS_UNAVAILABLE_HINT,
  RateLimitedError,
  SessionExpiredError,
  StaleSyncTokenError,
  UnexpectedResponseError,
  ZoneNotFoundError,
} from '#domain/errors.ts';
import type { DatabaseScope } from '#domain/model/zone.ts';

/** Codes that mean "slow down and try again" (docs/protocol/cloudkit.md#errors, kei). */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'TRY_AGAIN_LATER',
  'THROTTLED',
  'RETRY_LATER',
  'CAS_OP_LOCK',
]);
const SESSION_CODES = new Set(['AUTHENTICATION_FAILED', 'AUTHENTICATION_REQUIRED']);

export interface CloudKitErrorBody {
  readonly serverErrorCode: string;
  readonly reason?: string;
  /** Seconds, when CloudKit said. */
  readonly retryAfter?: number;
}

const brief = (text: string | undefined): string => (text ?? '').replace(/\s+/g, ' ').slice(0, 200);

/**
 * The error for a CloudKit error object, top-level or per zone. `zoneName` names the zone the
 * request was about; `sentToken` says whether a sync token was part of it (a BAD_REQUEST then means
 * the token was refused, docs/protocol/sync-tokens.md#zone-errors). A `changes/database` request
 * carries nothing else that could be wrong, so its BAD_REQUEST with a token is the database token
 * refused (kei reads any BAD_REQUEST to a token as expired). No other code means a stale token:
 * Apple's error table has no `CHANGE_TOKEN_EXPIRED` (docs/protocol/cloudkit.md#errors).
 */
export function errorFromCloudKit(
  body: CloudKitErrorBody,
  context: {
    readonly operation: string;
    readonly zoneName?: string;
    readonly sentToken?: boolean;
    /** The token sent was the database's (`changes/database`), not a zone's. */
    readonly databaseToken?: boolean;
    readonly database?: DatabaseScope;
  },
): Error {
  const code = body.serverErrorCode;
  const reason = brief(body.reason);
  const where = `${context.operation}${context.zoneName ? ` for zone ${context.zoneName}` : ''}`;
  if (TRANSIENT_CODES.has(code)) {
    return new RateLimitedError(`CloudKit answered ${code} to ${where}: ${reason}`, {
      ...(body.retryAfter !== undefined ? { retryAfterSeconds: body.retryAfter } : {}),
    });
  }
  if (code === 'ZONE_NOT_FOUND' && context.zoneName !== undefined)
    return new ZoneNotFoundError(context.zoneName);
  if (code === 'BAD_REQUEST' && context.sentToken && context.zoneName !== undefined) {
    return new StaleSyncTokenError(context.zoneName, reason || code);
  }
  if (
    code === 'BAD_REQUEST' &&
    context.sentToken &&
    context.databaseToken &&
    context.database !== undefined
  ) {
    return new StaleSyncTokenError({ database: context.database }, reason || code);
  }
  if (SESSION_CODES.has(code)) {
    return new SessionExpiredError(`CloudKit answered ${code} to ${where}`);
  }
  if (code === 'ACCESS_DENIED' || /private db access disabled/i.test(reason) || code === 'ZONE_NOT_FOUND') {
    return new AccountConditionError(
      'photosUnavailable',
      `CloudKit answered ${code} to ${where}: ${PHOTOS_UNAVAILABLE_HINT}`,
    );
  }
  return new UnexpectedResponseError(`CloudKit answered ${code} to ${where}: ${reason}`, {
    permanent: code === 'BAD_REQUEST',
  });
}

/** The error for an HTTP failure status whose body carried no CloudKit error code. */
export function errorFromHttpStatus(
  status: number,
  bodyText: string,
  context: { readonly operation: string; readonly retryAfterSeconds?: number },
): Error {
  const what = `CloudKit answered HTTP ${status} to ${context.operation}`;
  if (status === 429 || status === 503) {
    return new RateLimitedError(what, {
      ...(context.retryAfterSeconds !== undefined ? { retryAfterSeconds: context.retryAfterSeconds } : {}),
    });
  }
  if (status === 401 || status === 421 || status === 403) {
    // 401 stale session, 421 missing cookie or wrong partition, bare 403 rotated routing
    // (docs/protocol/cloudkit.md#errors); each met again after the session's one refresh.
    return new SessionExpiredError(`${what}: ${brief(bodyText)}`);
  }
  return new UnexpectedResponseError(what, { permanent: status >= 400 && status < 500 });
}
