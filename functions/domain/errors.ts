/**
 * The few error classes of icloud-s3 and the one classifier that decides what a failure means:
 * try again (`retryable`), give up on this item (`fatal`), or stop until a human signs in (`reauth`).
 *
 * Messages never contain secrets (passwords, cookies, tokens, signed URLs): callers pass
 * descriptions, never raw values.
 */

import type { DatabaseScope } from './model/zone.ts';

export type ErrorClass = 'retryable' | 'fatal' | 'reauth';

interface ErrorOptions {
  readonly cause?: unknown;
}

/** The stored iCloud session can no longer be used without a person (password or two-factor code). */
export class SessionExpiredError extends Error {
  override readonly name: string = 'SessionExpiredError';
  /** What the person should run, e.g. `icloud-s3 login`. */
  readonly action: string;
  constructor(message: string, options: ErrorOptions & { action?: string } = {}) {
    super(message, { cause: options.cause });
    this.action = options.action ?? 'icloud-s3 login';
  }
}

/**
 * The stored session is latched: an earlier run learnt that a person must sign in, so this run
 * did not talk to Apple at all. Already reported (the alarm fired when the latch was set).
 */
export class SignInLatchedError extends SessionExpiredError {
  override readonly name = 'SignInLatchedError';
  /** When the latch was set, ms. */
  readonly since: number;
  constructor(message: string, options: { since: number; action?: string }) {
    super(message, options.action === undefined ? {} : { action: options.action });
    this.since = options.since;
  }
}

/** What CloudKit's ZONE_NOT_FOUND or ACCESS_DENIED for the photo library may mean (docs/protocol/cloudkit.md#errors). */
export const PHOTOS_UNAVAILABLE_HINT =
  'iCloud Photos may be off, "Access iCloud Data on the Web" disabled, or Advanced Data Protection on';

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

/**
 * CloudKit rejected a stored syncToken (BAD_REQUEST to a request that carried one): a zone's must
 * be enumerated afresh; a database's (`changes/database`) is read again without a token.
 */
export class StaleSyncTokenError extends Error {
  override readonly name = 'StaleSyncTokenError';
  /** The zone whose token was refused; absent for a database token. */
  readonly zoneName?: string;
  /** The database whose token was refused (`changes/database`); absent for a zone token. */
  readonly database?: DatabaseScope;
  constructor(
    subject: string | { readonly database: DatabaseScope },
    reason: string,
    options: ErrorOptions = {},
  ) {
    const what = typeof subject === 'string' ? `zone ${subject}` : `the ${subject.database} database`;
    super(`CloudKit rejected the stored sync token of ${what}: ${reason}`, { cause: options.cause });
    if (typeof subject === 'string') this.zoneName = subject;
    else this.database = subject.database;
  }
}

/**
 * CloudKit answered ZONE_NOT_FOUND for a zone: a Shared Library left is retired (followed again
 * once Apple lists it); the own library (PrimarySync) is an account condition, never retired.
 */
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

/**
 * S3 stored other bytes than the store sent: the MD5 S3 computed of what it stored (a video's
 * metadata copy's ETag) is not the MD5 the store hashed while streaming. Never archived, and
 * retryable: the bytes changed on the way (no part of a multipart upload carries a digest), so
 * sending them again is the remedy, as for S3's `BadDigest` (rule `sdk-transfer-fault`).
 */
export class UploadDigestMismatchError extends Error {
  override readonly name = 'UploadDigestMismatchError';
  /** The MD5 the store hashed while sending, hex. */
  readonly sent: string;
  /** The MD5 S3 computed of what it stored, hex. */
  readonly stored: string;
  constructor(sent: string, stored: string, options: ErrorOptions = {}) {
    super(`S3 stored other bytes than were sent: MD5 ${stored}, sent ${sent}`, { cause: options.cause });
    this.sent = sent;
    this.stored = stored;
  }
}

/** A signed CDN URL is past its expiry (HTTP 410): fetch a fresh one with records/lookup. */
export class DownloadUrlExpiredError extends Error {
  override readonly name = 'DownloadUrlExpiredError';
}

/**
 * A record named a download URL outside Apple's asset CDN, so it was not fetched (a server-side
 * request forgery guard). Not a verdict on the photo: ask CloudKit for a fresh URL, and when that
 * is refused too, fail the work so it is delivered again (then dead-lettered and redriven, with
 * backoff and a cap) rather than record the photo as failed for good.
 */
export class DownloadUrlRefusedError extends Error {
  override readonly name = 'DownloadUrlRefusedError';
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
  override readonly name: string = 'InvalidInputError';
}

/**
 * A version larger than the archive can hold in one object (`MAX_OBJECT_BYTES`, S3's largest).
 * Fatal (an `InvalidInputError`, so the classifier needs no row for it), and refused before its
 * download starts: no retry can store it, and each would fetch the whole body again only to fail.
 */
export class ObjectTooLargeError extends InvalidInputError {
  override readonly name = 'ObjectTooLargeError';
  readonly size: number;
  readonly max: number;
  constructor(size: number, max: number, options: ErrorOptions = {}) {
    super(`${size} bytes is more than the ${max} bytes the archive stores in one object`, {
      cause: options.cause,
    });
    this.size = size;
    this.max = max;
  }
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

/**
 * A video too long for one invocation stopped at its deadline after storing part of it, which a
 * checkpoint keeps (archive/resumable-transfer.ts): retryable, the next delivery goes on from there.
 */
export class TransferPausedError extends Error {
  override readonly name = 'TransferPausedError';
  /**
   * Bytes this delivery added to what the version's checkpoint held when it began (0: nothing
   * more): more, and the item may go on at once in a new work message (process-work-message.ts).
   */
  readonly stored: number;
  constructor(message: string, stored: number) {
    super(message);
    this.stored = stored;
  }
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
 * A value a zod schema refused, known by its name: `ZodError` from classic zod (the CLI's and the
 * local servers' own schemas), `$ZodError` from zod/mini (every schema the Lambda functions load).
 */
export function isZodError(error: unknown): boolean {
  const name = fieldOf(error, 'name');
  return name === 'ZodError' || name === '$ZodError';
}

/** What `classifyError` decided, and the rule that decided it (`unknown` for the default). */
export interface Classification {
  readonly errorClass: ErrorClass;
  readonly rule: string;
}

const OURS: ReadonlyArray<readonly [new (...args: never[]) => Error, ErrorClass]> = [
  [SessionExpiredError, 'reauth'],
  [AccountConditionError, 'reauth'],
  [RateLimitedError, 'retryable'],
  [StaleSyncTokenError, 'retryable'],
  [ContentLengthMismatchError, 'retryable'],
  [UploadDigestMismatchError, 'retryable'],
  [DownloadUrlExpiredError, 'retryable'],
  [DownloadUrlRefusedError, 'retryable'],
  [ZoneNotFoundError, 'fatal'],
  [InvalidInputError, 'fatal'],
  [ConflictError, 'retryable'],
  [TransferPausedError, 'retryable'],
  [EnqueueError, 'retryable'],
];

/**
 * Our error classes that live outside this file, by `name`: the domain may not import the adapter
 * that defines `WrongVerificationCodeError`, and a name is the contract the table test pins with
 * each real class. (`StalledDownloadError` is named `TimeoutError` and takes the timeout rule.)
 */
const OURS_ELSEWHERE: Readonly<Record<string, ErrorClass>> = {
  /** shared/config: a missing or invalid variable stays so until someone deploys a fix. */
  ConfigError: 'fatal',
  /** domain/plan/delete-policy: a person must look before anything is deleted. */
  MassDeletionRefusedError: 'fatal',
  /** adapters/icloud/auth: the same code will be refused again. */
  WrongVerificationCodeError: 'fatal',
  /** domain/shared-albums: the album left the account's view; the next listing drops it. */
  SharedAlbumGoneError: 'fatal',
  /** domain/shared-albums: a library worker is archiving the item's original; its redelivery references it. */
  LibraryTwinPendingError: 'retryable',
  /** domain/shared-albums: a gone item came before the detector's list save; its redelivery finds it. */
  GoneNotRecordedError: 'retryable',
};

/** AWS SDK error names that mean "slow down", whatever `$fault` they carry. */
const SDK_THROTTLED = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  // SQS: the JSON protocol's code, and the query protocol's.
  'RequestThrottled',
  'Throttling',
]);

/**
 * S3's client-fault answers about the transfer, not the request: the body arrived other than it
 * was sent (`BadDigest` against the Content-MD5 or checksum we sent, `XAmzContentSHA256Mismatch`),
 * short (`IncompleteBody`), or too slowly (`RequestTimeout`). Sending again is the remedy; a
 * malformed digest (`InvalidDigest`) is ours to fix and stays fatal.
 */
const SDK_TRANSFER_FAULTS = new Set([
  'BadDigest',
  'XAmzContentSHA256Mismatch',
  'IncompleteBody',
  'RequestTimeout',
]);

/**
 * S3's refusal of an upload without a digest to a bucket with Object Lock and a default retention:
 * `400 InvalidRequest`, "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part
 * requests with Object Lock parameters" (… Put Object …; before additional checksums, "Content-MD5
 * HTTP header is required for …"). Known by its code and the message's words, not its exact text.
 */
const OBJECT_LOCK_DIGEST_REFUSAL =
  /\bContent-MD5\b.*\bis required for Put (?:Part|Object) requests with Object Lock\b/i;

/**
 * Whether `error` is S3 refusing an upload that carried no digest because the bucket has Object
 * Lock (`OBJECT_LOCK_DIGEST_REFUSAL`). Retryable: the archive's store that meets it sends a
 * digest with every part from then on (S3ArchivingObjectStore), so a redelivery stores the object;
 * the bucket was given Object Lock outside the stack (docs/deploy.md).
 */
export function isObjectLockDigestRefusal(error: unknown): boolean {
  if (fieldOf(error, 'name') !== 'InvalidRequest' || fieldOf(error, '$fault') !== 'client') return false;
  const message = fieldOf(error, 'message');
  return typeof message === 'string' && OBJECT_LOCK_DIGEST_REFUSAL.test(message);
}

/**
 * Maps any failure, ours or foreign (AWS SDK `$retryable`/`$fault`, HTTP status, abort and
 * timeout, zod, Node and undici network codes), to what the caller should do with it, and names
 * the rule that decided. Every known class has its own rule (see the table test).
 *
 * Unknown failures (`rule: 'unknown'`) are deliberately `retryable`: what we have not named is
 * most often a transient fault we have not met yet (a new network code, an SDK error without
 * `$fault`), and being wrong costs at most the queue's bounded redeliveries before the dead-letter
 * queue keeps the message for a person. Calling it `fatal` instead would record the photo as
 * failed for good after one unlucky attempt.
 */
export function explainError(error: unknown): Classification {
  for (const [type, errorClass] of OURS) {
    if (error instanceof type) return { errorClass, rule: type.name };
  }
  if (error instanceof UnexpectedResponseError) {
    return { errorClass: error.permanent ? 'fatal' : 'retryable', rule: 'UnexpectedResponseError' };
  }

  const name = fieldOf(error, 'name');
  if (typeof name === 'string' && Object.hasOwn(OURS_ELSEWHERE, name)) {
    return { errorClass: OURS_ELSEWHERE[name]!, rule: name };
  }
  if (isZodError(error)) return { errorClass: 'fatal', rule: 'ZodError' };
  if (name === 'AbortError') return { errorClass: 'retryable', rule: 'abort' };
  if (name === 'TimeoutError') return { errorClass: 'retryable', rule: 'timeout' };

  const retryable = fieldOf(error, '$retryable');
  if (typeof retryable === 'object' && retryable !== null)
    return { errorClass: 'retryable', rule: 'sdk-retryable' };
  const fault = fieldOf(error, '$fault');
  if (fault === 'server') return { errorClass: 'retryable', rule: 'sdk-server-fault' };
  if (fault === 'client') {
    if (typeof name === 'string' && SDK_THROTTLED.has(name))
      return { errorClass: 'retryable', rule: 'sdk-throttled' };
    const sdkStatus = fieldOf(fieldOf(error, '$metadata'), 'httpStatusCode');
    if (sdkStatus === 429 || sdkStatus === 408)
      return { errorClass: 'retryable', rule: 'sdk-client-status-retryable' };
    // A conditional write lost a race, or met an item a transaction held at that moment (a work
    // message's batched claims and entries), or a video's metadata copy found another worker's
    // version at its key (S3's 412 on `CopySourceIfMatch`): the redelivery reads the winner's state.
    if (
      name === 'ConditionalCheckFailedException' ||
      name === 'TransactionConflictException' ||
      name === 'PreconditionFailed'
    )
      return { errorClass: 'retryable', rule: 'sdk-lost-race' };
    if (typeof name === 'string' && SDK_TRANSFER_FAULTS.has(name))
      return { errorClass: 'retryable', rule: 'sdk-transfer-fault' };
    if (isObjectLockDigestRefusal(error)) return { errorClass: 'retryable', rule: 'sdk-object-lock-digest' };
    return { errorClass: 'fatal', rule: 'sdk-client-fault' };
  }

  const status = fieldOf(error, 'status') ?? fieldOf(error, 'statusCode');
  if (typeof status === 'number') {
    if (status === 401 || status === 421) return { errorClass: 'reauth', rule: 'http-reauth' };
    if (status === 408 || status === 429 || status >= 500)
      return { errorClass: 'retryable', rule: 'http-retryable' };
    if (status >= 400) return { errorClass: 'fatal', rule: 'http-client-error' };
  }

  const code = fieldOf(error, 'code') ?? fieldOf(fieldOf(error, 'cause'), 'code');
  if (typeof code === 'string' && RETRYABLE_NODE_CODES.has(code))
    return { errorClass: 'retryable', rule: 'network' };
  return { errorClass: 'retryable', rule: 'unknown' };
}

/** What the caller should do with `error`: `explainError(error).errorClass`. */
export function classifyError(error: unknown): ErrorClass {
  return explainError(error).errorClass;
}
