/**
 * What the CLI says about a failure: one stable kebab-case `code` (documented in
 * docs/commands.md), a message for a person, a hint when we know what to do, and the exit code.
 * `--json` prints it as `{ "status": "error", "error": { code, message, hint }, "exitCode" }`.
 */

import { CommanderError } from 'commander';
import { OTHER_ACCOUNT } from '#domain/account/archive-owner.ts';
import {
  AccountConditionError,
  InvalidInputError,
  isZodError,
  RateLimitedError,
  SessionExpiredError,
  UnexpectedResponseError,
} from '#domain/errors.ts';
import { ConfigError } from '#shared/config.ts';
import { errorMessage } from '#shared/redact.ts';
import { asTyped, CLI_COMMAND } from './command-line.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import type { JsonResult } from './result-status.ts';

export type ErrorCode =
  | 'usage'
  | 'invalid-input'
  | 'file-not-found'
  | 'needs-login'
  | 'account-refused'
  | 'rate-limited'
  | 'network'
  | 'unexpected-response'
  | 'aws'
  | 'deletion-refused'
  | 'state-in-use'
  | 'folder-not-writable'
  | 'disk-full'
  | 'interrupted'
  | 'internal';

export interface ErrorReport {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string | null;
  readonly exitCode: number;
  /** Why Apple refused the account (`account-refused` only; docs/login.md lists them). */
  readonly condition?: string;
}

/** Exit code of a run stopped by SIGINT (128 + 2), as shells report it. */
export const EXIT_INTERRUPTED = 130;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The network failure behind an error (a `fetch failed` keeps it in `cause`), with the host it names. */
function networkFailure(error: unknown): { code: string; host?: string } | undefined {
  for (let at: unknown = error, depth = 0; at !== undefined && depth < 4; at = field(at, 'cause'), depth++) {
    const code = text(field(at, 'code'));
    if (code === undefined || !NETWORK_CODES.has(code)) continue;
    // Node's AggregateError (one attempt per address) keeps the address in its members.
    const errors = field(at, 'errors');
    const source = Array.isArray(errors) && errors.length > 0 ? errors[0] : at;
    const host = text(field(source, 'hostname')) ?? text(field(source, 'address'));
    const port = field(source, 'port');
    return host === undefined
      ? { code }
      : { code, host: typeof port === 'number' ? `${host}:${port}` : host };
  }
  return undefined;
}

/**
 * A full disk behind an error: Node's `ENOSPC`, or LevelDB's or a server's words for it (the local
 * DynamoDB answers a failed write as a 500 naming LevelDB's reason: dynalite-storage-errors.ts).
 */
function diskFull(error: unknown): boolean {
  for (
    let at: unknown = error, depth = 0;
    at !== undefined && at !== null && depth < 4;
    at = field(at, 'cause'), depth++
  ) {
    if (field(at, 'code') === 'ENOSPC') return true;
    const said = at instanceof Error ? at.message : text(at);
    if (said !== undefined && /\bENOSPC\b|No space left on device/.test(said)) return true;
  }
  return false;
}

/** What to do about a full disk: the work is crash-safe, so freeing space and running again loses nothing. */
export const DISK_FULL_FIX =
  'Free some space on the disk that holds the data folder, then run the command again: nothing is lost, the next sync goes on from where this one stopped. Leave the data folder where it is.';

/** Commander's message without its `error: ` prefix (it shows the help when no command is given). */
const commanderMessage = (error: CommanderError) =>
  error.code === 'commander.help' ? 'no command given' : error.message.replace(/^error: /, '');

/**
 * What helps when iCloud will not serve the photo library (ZONE_NOT_FOUND, ACCESS_DENIED:
 * `PHOTOS_UNAVAILABLE_HINT` in the message): a setting on the account, never a new sign-in.
 */
export const PHOTOS_UNAVAILABLE_FIX = `Turn on iCloud Photos and "Access iCloud Data on the Web" and turn off Advanced Data Protection (Settings > Apple Account > iCloud); signing in again does not help. Then run: ${CLI_COMMAND} library (it lists the photo zones Apple serves); the next sync goes on from where it stopped.`;

/** What to do when the session is another Apple ID's than the archive's (`otherAccount`). */
export const OTHER_ACCOUNT_FIX =
  "Sign in with the archive's Apple ID (icloud-s3 login; --aws for the deployed stack), or give the other account its own --local DIR and --session-file PATH.";

export function reportError(error: unknown, command = CLI_COMMAND): ErrorReport {
  const usageHint = `Run: ${command} --help`;
  if (error instanceof CommanderError) {
    return { code: 'usage', message: commanderMessage(error), hint: usageHint, exitCode: EXIT.usage };
  }
  // Ctrl-C at a `login` prompt: @inquirer reads it as a key in raw mode (no SIGINT) and rejects
  // with `ExitPromptError`, known by name as the prompt library is loaded by `login` alone.
  if (field(error, 'name') === 'ExitPromptError')
    return { code: 'interrupted', message: 'stopped by Ctrl-C', hint: null, exitCode: EXIT_INTERRUPTED };
  const message = errorMessage(error);
  if (error instanceof UsageError)
    return { code: 'usage', message, hint: error.hint ?? usageHint, exitCode: EXIT.usage };
  if (error instanceof SessionExpiredError) {
    return { code: 'needs-login', message, hint: `Run: ${asTyped(error.action)}`, exitCode: EXIT.needsLogin };
  }
  if (error instanceof AccountConditionError) {
    return {
      code: 'account-refused',
      message,
      hint:
        error.condition === 'photosUnavailable'
          ? PHOTOS_UNAVAILABLE_FIX
          : error.condition === OTHER_ACCOUNT
            ? OTHER_ACCOUNT_FIX
            : null,
      exitCode: EXIT.accountCondition,
      condition: error.condition,
    };
  }
  const path = text(field(error, 'path')) ?? text(field(field(error, 'cause'), 'path'));
  if (field(error, 'code') === 'ENOENT' || field(field(error, 'cause'), 'code') === 'ENOENT') {
    return {
      code: 'file-not-found',
      message: path === undefined ? message : `${path} does not exist`,
      hint: null,
      exitCode: EXIT.usage,
    };
  }
  if (error instanceof InvalidInputError || error instanceof ConfigError || isZodError(error)) {
    return { code: 'invalid-input', message, hint: null, exitCode: EXIT.usage };
  }
  if (error instanceof RateLimitedError) {
    const wait = error.retryAfterSeconds;
    return {
      code: 'rate-limited',
      message,
      hint: wait === undefined ? 'Wait a while, then try again.' : `Wait ${wait} s, then try again.`,
      exitCode: EXIT.failure,
    };
  }
  const network = networkFailure(error);
  if (network !== undefined) {
    const where = network.host ?? 'the server';
    return {
      code: 'network',
      message:
        message === 'fetch failed'
          ? `cannot reach ${where} (${network.code})`
          : message.includes(where)
            ? message
            : `${message} (cannot reach ${where}, ${network.code})`,
      hint: 'Check the network connection and --endpoint.',
      exitCode: EXIT.failure,
    };
  }
  if (field(error, 'name') === 'TimeoutError') {
    return {
      code: 'network',
      message: `no answer in time: ${message}`,
      hint: 'Check the network connection and --endpoint.',
      exitCode: EXIT.failure,
    };
  }
  // Known by name: local/servers/dynamodb-server.ts is not loaded by every command.
  if (field(error, 'name') === 'LocalStateInUseError') {
    return {
      code: 'state-in-use',
      message,
      hint: 'Wait for the other icloud-s3 command on this data folder to finish, then run this one again.',
      exitCode: EXIT.failure,
    };
  }
  // Known by name, as above. Its message says why and what to do.
  if (field(error, 'name') === 'LocalFolderUnwritableError') {
    return field(error, 'reason') === 'disk-full'
      ? { code: 'disk-full', message, hint: DISK_FULL_FIX, exitCode: EXIT.failure }
      : {
          code: 'folder-not-writable',
          message,
          hint: 'The data folder is fine: leave it where it is. Make it writable (mount it read-write, or run as the user who owns it), then run the command again.',
          exitCode: EXIT.failure,
        };
  }
  if (diskFull(error)) {
    return {
      code: 'disk-full',
      message: /No space left on device|ENOSPC/.test(message) ? message : `the disk is full: ${message}`,
      hint: DISK_FULL_FIX,
      exitCode: EXIT.failure,
    };
  }
  if (error instanceof UnexpectedResponseError) {
    return { code: 'unexpected-response', message, hint: null, exitCode: EXIT.failure };
  }
  // The AWS SDK's own sentences when it has no region or no credentials: say which option gives them.
  if (error instanceof Error && error.message === 'Region is missing') {
    return {
      code: 'aws',
      message: 'no AWS region: none was given and none is configured',
      hint: "Pass --region with the stack's region (e.g. --region eu-west-1), or set AWS_REGION, or --profile NAME with a region in ~/.aws/config.",
      exitCode: EXIT.failure,
    };
  }
  if (field(error, 'name') === 'CredentialsProviderError') {
    return {
      code: 'aws',
      message: `no AWS credentials: ${message}`,
      hint: 'Pass --profile NAME (a profile of ~/.aws/config, signed in with aws sso login if it uses SSO), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
      exitCode: EXIT.failure,
    };
  }
  if (field(error, '$metadata') !== undefined) {
    return {
      code: 'aws',
      message: `AWS: ${message}`,
      hint: 'Check the AWS credentials, region and stack names (--stack, --bucket, --table).',
      exitCode: EXIT.failure,
    };
  }
  return { code: 'internal', message, hint: null, exitCode: EXIT.failure };
}

/** The `--json` error object: the same shape for every command and every failure. */
export function errorResult(report: ErrorReport): JsonResult {
  return {
    status: 'error',
    error: {
      code: report.code,
      message: report.message,
      hint: report.hint,
      ...(report.condition === undefined ? {} : { condition: report.condition }),
    },
    exitCode: report.exitCode,
  };
}
