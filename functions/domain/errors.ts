/**
 * The few error classes of icloud-s3 and the one classifier that decides what a failure means:
 * try again (`retryable`), give up on this item (`fatal`), or stop until a human signs in (`reauth`).
 *
 * Messages never contain secrets (passwords, cookies, tokens, signed URLs): callers pass
 * descriptions, never raw values.
 */

export type ErrorClass = 'retryable' | 'fatal' | 'reauth';

interface ErrorOptions {
  readonly cause?: unknown;
}

/** The stored iCloud session can no longer be used without a person (password or two-factor code). */
export class SessionExpiredError extends Error {
  override readonly name = 'SessionExpiredError';
  /** What the person should run, e.g. `icloud-s3 login`. */
  readonly action: string;
  constructor(message: string, options: ErrorOptions & { action?: string } = {}) {
    super(message, { cause: options.cause });
    this.action = options.action ?? 'icloud-s3 login';
  }
}

/** Apple refused the account for a reason a person must fix (wrong password, ADP, security keys, terms...). */
export class AccountConditionError extends Error {
  override readonly name = 'AccountConditionError';
  readonly condition: string;
  constructor(condition: string, message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.condition = condition;
  }
}

/** Apple or AWS asked us to slow down (429, 503, THROTTLED, TRY_AGAIN_LATER). */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  /** Seconds the server asked us to wait, when it said. */
  readonly retryAfterSeconds?: number;
  constructor(message: string, options: ErrorOptions & { retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** CloudKit rejected a stored syncToken (BAD_REQUEST): the zone must be enumerated afresh. */
export class StaleSyncTokenError extends Error {
  override readonly name = 'StaleSyncTokenError';
  readonly zoneName: string;
  constructor(zoneName: string, reason: string, options: ErrorOptions = {}) {
    super(`CloudKit rejected the stored sync token of zone ${zoneName}: ${reason}`, { cause: options.cause });
    this.zoneName = zoneName;
  }
}

/** The zone no longer exists (ZONE_NOT_FOUND): stop syncing it. */
export class ZoneNotFoundError extends Error {
  override readonly name = 'ZoneNotFoundError';
  readonly zoneName: string;
  constructor(zoneName: string, options: ErrorOptions = {}) {
    super(`iCloud zone ${zoneName} was not found`, { cause: options.cause });
    this.zoneName = zoneName;
  }
}

/** A body ended before (or after) the size CloudKit reported. Never archived. */
export class ContentLengthMismatchError extends Error {
  override readonly name = 'ContentLengthMismatchError';
  readonly expected: number;
  readonly received: number;
  constructor(expected: number, received: number, options: ErrorOptions = {}) {
    super(`download has ${received} bytes, CloudKit reported ${expected}`, { cause: options.cause });
    this.expected = expected;
    this.received = received;
  }
}

/** A signed CDN URL is past its expiry (HTTP 410): fetch a fresh one with records/lookup. */
export class DownloadUrlExpiredError extends Error {
  override readonly name = 'DownloadUrlExpiredError';
}

/**
 * Apple answered something we cannot read (wrong shape, HTML instead of JSON, a missing core field).
 * Retryable by default: Apple's error pages are usually transient. Set `permanent` when the same
 * request will always get the same answer.
 */
export class UnexpectedResponseError extends Error {
  override readonly name = 'UnexpectedResponseError';
  readonly permanent: boolean;
  constructor(message: string, options: ErrorOptions & { permanent?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.permanent = options.permanent ?? false;
  }
}

/** An input of ours (config, message, secret) failed validation. Never retryable. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
}

/** Some messages could not be stored. Retrying the whole enqueue is safe. */
export class EnqueueError extends Error {
  override readonly name = 'EnqueueError';
  readonly failed: number;
  constructor(message: string, failed: number, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.failed = failed;
  }
}

/** A conditional write lost a race (another run or worker got there first). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

const RETRYABLE_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function fieldOf(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Maps any failure, ours or foreign (AWS SDK `$fault`, HTTP status, abort, zod), to what the
 * caller should do with it. Unknown errors are retryable: SQS redelivery and then the
 * dead-letter queue bound the cost of being wrong.
 */
export function classifyError(error: unknown): ErrorClass {
  if (error instanceof SessionExpiredError) return 'reauth';
  if (error instanceof AccountConditionError) return 'reauth';
  if (error instanceof RateLimitedError) return 'retryable';
  if (error instanceof StaleSyncTokenError) return 'retryable';
  if (error instanceof ContentLengthMismatchError) return 'retryable';
  if (error instanceof DownloadUrlExpiredError) return 'retryable';
  if (error instanceof ZoneNotFoundError) return 'fatal';
  if (error instanceof InvalidInputError) return 'fatal';
  if (error instanceof ConflictError) return 'retryable';
  if (error instanceof UnexpectedResponseError) return error.permanent ? 'fatal' : 'retryable';

  const name = fieldOf(error, 'name');
  if (name === 'ZodError') return 'fatal';
  if (name === 'AbortError' || name === 'TimeoutError') return 'retryable';

  const fault = fieldOf(error, '$fault');
  if (fault === 'server') return 'retryable';
  if (fault === 'client') {
    const status = fieldOf(fieldOf(error, '$metadata'), 'httpStatusCode');
    if (name === 'ThrottlingException' || name === 'ProvisionedThroughputExceededException')
      return 'retryable';
    if (name === 'SlowDown' || name === 'RequestLimitExceeded' || name === 'TooManyRequestsException') {
      return 'retryable';
    }
    if (status === 429 || status === 408) return 'retryable';
    if (name === 'ConditionalCheckFailedException') return 'retryable';
    if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'NoSuchBucket')
      return 'fatal';
    return 'fatal';
  }

  const status = fieldOf(error, 'status') ?? fieldOf(error, 'statusCode');
  if (typeof status === 'number') {
    if (status === 401 || status === 421) return 'reauth';
    if (status === 408 || status === 429 || status >= 500) return 'retryable';
    if (status >= 400) return 'fatal';
  }

  const code = fieldOf(error, 'code') ?? fieldOf(fieldOf(error, 'cause'), 'code');
  if (typeof code === 'string' && RETRYABLE_NODE_CODES.has(code)) return 'retryable';
  return 'retryable';
}
