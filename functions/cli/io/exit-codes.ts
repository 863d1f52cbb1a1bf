/**
 * The documented exit codes of `icloud-s3` (docs/login.md) and the mapping from our error classes.
 */
import { AccountConditionError, InvalidInputError, SessionExpiredError } from '#domain/errors.ts';

export const EXIT = {
  ok: 0,
  /** Anything else went wrong (network, Apple throttling, unexpected answers). */
  failure: 1,
  /** The command line was wrong (unknown option, missing value in a non-interactive run). */
  usage: 2,
  /** A person must run `icloud-s3 login` (again). */
  needsLogin: 3,
  /** Apple refused the account for a reason the person must fix (wrong password, ADP, security keys...). */
  accountCondition: 4,
  /** `verify` ran to the end and found the archive, the manifest or the bucket disagreeing. */
  differences: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A usage problem found after parsing (e.g. no Apple ID and no terminal to ask on). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** What to do instead, when more precise than "see --help". */
  readonly hint: string | undefined;

  constructor(message: string, options: { readonly hint?: string } = {}) {
    super(message);
    this.hint = options.hint;
  }
}

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof SessionExpiredError) return EXIT.needsLogin;
  if (error instanceof AccountConditionError) return EXIT.accountCondition;
  if (error instanceof InvalidInputError) return EXIT.usage;
  return EXIT.failure;
}
