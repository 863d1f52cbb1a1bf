/**
 * `classifyError` as a table: one row per error class it knows, ours and foreign, with the rule
 * that must decide it. A row fails when a mapping changes or when a class falls through to the
 * unknown default, even where that default would give the same answer.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WrongVerificationCodeError } from '#adapters/icloud/auth/two-factor.ts';
import { StalledDownloadError } from '#adapters/icloud/cdn/cdn-downloader.ts';
import {
  AccountConditionError,
  type Classification,
  ConflictError,
  ContentLengthMismatchError,
  classifyError,
  DownloadUrlExpiredError,
  DownloadUrlRefusedError,
  EnqueueError,
  explainError,
  InvalidInputError,
  ObjectTooLargeError,
  RateLimitedError,
  SessionExpiredError,
  StaleSyncTokenError,
  UnexpectedResponseError,
  UploadDigestMismatchError,
  ZoneNotFoundError,
} from '#domain/errors.ts';
import { MassDeletionRefusedError } from '#domain/plan/delete-policy.ts';
import { GoneNotRecordedError, SharedAlbumGoneError } from '#domain/shared-albums/errors.ts';
import { ConfigError } from '#shared/config.ts';
import * as mini from '#shared/zod.ts';

/** An error shaped like the AWS SDK v3's service exceptions. */
function sdkError(
  name: string,
  fault: 'client' | 'server',
  status: number,
  retryable?: object,
  message = name,
): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    ...(retryable ? { $retryable: retryable } : {}),
  });
}

function withStatus(status: number): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status });
}

function nodeError(code: string, viaCause = false): Error {
  const own = Object.assign(new Error(code), { code });
  return viaCause ? new TypeError('fetch failed', { cause: own }) : own;
}

const zodError = z.object({ a: z.string() }).safeParse({}).error;
/** What the Lambda functions' schemas (zod/mini, named `$ZodError`) throw. */
const miniZodError = (() => {
  try {
    return mini.strictObject({ a: mini.string() }).parse({});
  } catch (error) {
    return error;
  }
})();

const table: ReadonlyArray<readonly [string, unknown, Classification]> = [
  // Ours (domain/errors.ts)
  [
    'SessionExpiredError',
    new SessionExpiredError('x'),
    { errorClass: 'reauth', rule: 'SessionExpiredError' },
  ],
  [
    'AccountConditionError',
    new AccountConditionError('adp', 'x'),
    { errorClass: 'reauth', rule: 'AccountConditionError' },
  ],
  ['RateLimitedError', new RateLimitedError('x'), { errorClass: 'retryable', rule: 'RateLimitedError' }],
  [
    'StaleSyncTokenError',
    new StaleSyncTokenError('PrimarySync', 'x'),
    { errorClass: 'retryable', rule: 'StaleSyncTokenError' },
  ],
  [
    'StaleSyncTokenError for a database token',
    new StaleSyncTokenError({ database: 'private' }, 'x'),
    { errorClass: 'retryable', rule: 'StaleSyncTokenError' },
  ],
  [
    'ContentLengthMismatchError',
    new ContentLengthMismatchError(2, 1),
    { errorClass: 'retryable', rule: 'ContentLengthMismatchError' },
  ],
  [
    // S3 stored other bytes than were sent (a video's copy ETag against the streamed MD5): as BadDigest.
    'UploadDigestMismatchError',
    new UploadDigestMismatchError('0'.repeat(32), 'f'.repeat(32)),
    { errorClass: 'retryable', rule: 'UploadDigestMismatchError' },
  ],
  [
    // Larger than S3's largest object: no retry can store it, and each would download it again.
    'ObjectTooLargeError',
    new ObjectTooLargeError(2, 1),
    { errorClass: 'fatal', rule: 'InvalidInputError' },
  ],
  [
    'DownloadUrlExpiredError',
    new DownloadUrlExpiredError('x'),
    { errorClass: 'retryable', rule: 'DownloadUrlExpiredError' },
  ],
  [
    'DownloadUrlRefusedError',
    new DownloadUrlRefusedError('x'),
    { errorClass: 'retryable', rule: 'DownloadUrlRefusedError' },
  ],
  ['ZoneNotFoundError', new ZoneNotFoundError('Z'), { errorClass: 'fatal', rule: 'ZoneNotFoundError' }],
  ['InvalidInputError', new InvalidInputError('x'), { errorClass: 'fatal', rule: 'InvalidInputError' }],
  ['ConflictError', new ConflictError('x'), { errorClass: 'retryable', rule: 'ConflictError' }],
  [
    // transfer-lease.ts: the upload aborted because the lease was lost; a lost race, not the photo's.
    'ConflictError (a lost transfer lease, the aborted upload its cause)',
    new ConflictError('lost the transfer lease on k', {
      cause: Object.assign(new Error('upload aborted'), { name: 'AbortError' }),
    }),
    { errorClass: 'retryable', rule: 'ConflictError' },
  ],
  ['EnqueueError', new EnqueueError('x', 1), { errorClass: 'retryable', rule: 'EnqueueError' }],
  [
    'UnexpectedResponseError (transient)',
    new UnexpectedResponseError('x'),
    { errorClass: 'retryable', rule: 'UnexpectedResponseError' },
  ],
  [
    'UnexpectedResponseError (permanent)',
    new UnexpectedResponseError('x', { permanent: true }),
    { errorClass: 'fatal', rule: 'UnexpectedResponseError' },
  ],
  // Ours, outside domain/errors.ts
  ['ConfigError (shared/config)', new ConfigError('x'), { errorClass: 'fatal', rule: 'ConfigError' }],
  [
    'MassDeletionRefusedError (domain/plan/delete-policy)',
    new MassDeletionRefusedError(9, 10, 1, 'x'),
    { errorClass: 'fatal', rule: 'MassDeletionRefusedError' },
  ],
  [
    'WrongVerificationCodeError (adapters/icloud/auth)',
    new WrongVerificationCodeError('x'),
    { errorClass: 'fatal', rule: 'WrongVerificationCodeError' },
  ],
  [
    'SharedAlbumGoneError (domain/shared-albums)',
    new SharedAlbumGoneError('ALBUM'),
    { errorClass: 'fatal', rule: 'SharedAlbumGoneError' },
  ],
  [
    'GoneNotRecordedError (domain/shared-albums)',
    new GoneNotRecordedError('ALBUM'),
    { errorClass: 'retryable', rule: 'GoneNotRecordedError' },
  ],
  [
    'StalledDownloadError (adapters/icloud/cdn)',
    new StalledDownloadError('x'),
    { errorClass: 'retryable', rule: 'timeout' },
  ],
  // Foreign: validation, abort and timeout
  ['ZodError', zodError, { errorClass: 'fatal', rule: 'ZodError' }],
  [
    "ZodError (zod/mini, the Lambda functions' schemas)",
    miniZodError,
    { errorClass: 'fatal', rule: 'ZodError' },
  ],
  ['AbortError', new DOMException('x', 'AbortError'), { errorClass: 'retryable', rule: 'abort' }],
  ['TimeoutError', new DOMException('x', 'TimeoutError'), { errorClass: 'retryable', rule: 'timeout' }],
  // Foreign: AWS SDK v3
  [
    'SDK $retryable (throttling)',
    sdkError('ThrottlingException', 'client', 400, { throttling: true }),
    { errorClass: 'retryable', rule: 'sdk-retryable' },
  ],
  [
    'SDK server fault',
    sdkError('InternalServerError', 'server', 500),
    { errorClass: 'retryable', rule: 'sdk-server-fault' },
  ],
  [
    'SDK ThrottlingException without $retryable',
    sdkError('ThrottlingException', 'client', 400),
    { errorClass: 'retryable', rule: 'sdk-throttled' },
  ],
  ['SDK SlowDown', sdkError('SlowDown', 'client', 503), { errorClass: 'retryable', rule: 'sdk-throttled' }],
  // SQS's throttling answers (the JSON protocol's code, and the query protocol's).
  [
    'SDK RequestThrottled (SQS)',
    sdkError('RequestThrottled', 'client', 400),
    { errorClass: 'retryable', rule: 'sdk-throttled' },
  ],
  [
    'SDK Throttling',
    sdkError('Throttling', 'client', 400),
    { errorClass: 'retryable', rule: 'sdk-throttled' },
  ],
  [
    'SDK ProvisionedThroughputExceededException',
    sdkError('ProvisionedThroughputExceededException', 'client', 400),
    { errorClass: 'retryable', rule: 'sdk-throttled' },
  ],
  [
    'SDK client fault 429',
    sdkError('Whatever', 'client', 429),
    { errorClass: 'retryable', rule: 'sdk-client-status-retryable' },
  ],
  [
    'SDK client fault 408',
    sdkError('Whatever', 'client', 408),
    { errorClass: 'retryable', rule: 'sdk-client-status-retryable' },
  ],
  [
    'SDK ConditionalCheckFailedException',
    sdkError('ConditionalCheckFailedException', 'client', 400),
    { errorClass: 'retryable', rule: 'sdk-lost-race' },
  ],
  [
    // A single write to an item a work message's transaction holds at that moment (docs/state.md).
    'SDK TransactionConflictException',
    sdkError('TransactionConflictException', 'client', 400),
    { errorClass: 'retryable', rule: 'sdk-lost-race' },
  ],
  [
    // The metadata copy's CopySourceIfMatch: another worker completed the key meanwhile (its
    // transfer lease outlived ours); the redelivery adopts its object (s3-object-store.ts).
    'SDK S3 PreconditionFailed',
    sdkError('PreconditionFailed', 'client', 412),
    { errorClass: 'retryable', rule: 'sdk-lost-race' },
  ],
  // S3 received the body other than it was sent, short, or too slowly: send it again.
  ...['BadDigest', 'XAmzContentSHA256Mismatch', 'IncompleteBody', 'RequestTimeout'].map(
    (name): readonly [string, unknown, Classification] => [
      `SDK S3 transfer fault ${name}`,
      sdkError(name, 'client', 400),
      { errorClass: 'retryable', rule: 'sdk-transfer-fault' },
    ],
  ),
  [
    // A Content-MD5 that is not one: our request is wrong, sending it again cannot help.
    'SDK InvalidDigest',
    sdkError('InvalidDigest', 'client', 400),
    { errorClass: 'fatal', rule: 'sdk-client-fault' },
  ],
  // A bucket given Object Lock outside the stack refuses an upload without a digest; the store
  // that met the refusal sends digests from then on (s3-object-store.ts), so its redelivery stores it.
  ...[
    'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters',
    'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
    // S3's wording before additional checksums (2022), still quoted by clients.
    'Content-MD5 HTTP header is required for Put Part requests with Object Lock parameters',
  ].map((message): readonly [string, unknown, Classification] => [
    `SDK InvalidRequest: ${message}`,
    sdkError('InvalidRequest', 'client', 400, undefined, message),
    { errorClass: 'retryable', rule: 'sdk-object-lock-digest' },
  ]),
  // Any other InvalidRequest is our request being wrong: sending it again cannot help.
  ...['You must specify at least one part', 'Bucket is missing Object Lock Configuration'].map(
    (message): readonly [string, unknown, Classification] => [
      `SDK InvalidRequest: ${message}`,
      sdkError('InvalidRequest', 'client', 400, undefined, message),
      { errorClass: 'fatal', rule: 'sdk-client-fault' },
    ],
  ),
  [
    'SDK InvalidRequest with the message but a server fault',
    sdkError(
      'InvalidRequest',
      'server',
      500,
      undefined,
      'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters',
    ),
    { errorClass: 'retryable', rule: 'sdk-server-fault' },
  ],
  [
    'SDK AccessDenied',
    sdkError('AccessDenied', 'client', 403),
    { errorClass: 'fatal', rule: 'sdk-client-fault' },
  ],
  [
    'SDK NoSuchBucket',
    sdkError('NoSuchBucket', 'client', 404),
    { errorClass: 'fatal', rule: 'sdk-client-fault' },
  ],
  // Foreign: HTTP status
  ['HTTP 401', withStatus(401), { errorClass: 'reauth', rule: 'http-reauth' }],
  ['HTTP 421', withStatus(421), { errorClass: 'reauth', rule: 'http-reauth' }],
  ['HTTP 408', withStatus(408), { errorClass: 'retryable', rule: 'http-retryable' }],
  ['HTTP 429', withStatus(429), { errorClass: 'retryable', rule: 'http-retryable' }],
  ['HTTP 503', withStatus(503), { errorClass: 'retryable', rule: 'http-retryable' }],
  ['HTTP 403', withStatus(403), { errorClass: 'fatal', rule: 'http-client-error' }],
  [
    'HTTP 404 as statusCode',
    Object.assign(new Error('x'), { statusCode: 404 }),
    { errorClass: 'fatal', rule: 'http-client-error' },
  ],
  // Foreign: Node and undici network errors, own or as the cause of `fetch failed`
  ...[
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
  ].map(
    (code) =>
      [code, nodeError(code), { errorClass: 'retryable', rule: 'network' }] as const satisfies readonly [
        string,
        unknown,
        Classification,
      ],
  ),
  ['ECONNRESET as the cause', nodeError('ECONNRESET', true), { errorClass: 'retryable', rule: 'network' }],
  // Unknown
  ['a plain Error', new Error('x'), { errorClass: 'retryable', rule: 'unknown' }],
  ['a TypeError', new TypeError('x'), { errorClass: 'retryable', rule: 'unknown' }],
  ['an unknown Node code', nodeError('ENOENT'), { errorClass: 'retryable', rule: 'unknown' }],
  ['an HTTP status below 400', withStatus(302), { errorClass: 'retryable', rule: 'unknown' }],
  ['a string', 'boom', { errorClass: 'retryable', rule: 'unknown' }],
  ['undefined', undefined, { errorClass: 'retryable', rule: 'unknown' }],
];

describe('classifyError', () => {
  it.each(table)('%s', (_name, error, expected) => {
    expect(explainError(error)).toEqual(expected);
    expect(classifyError(error)).toBe(expected.errorClass);
  });
});
