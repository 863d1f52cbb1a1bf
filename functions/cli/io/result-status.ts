/**
 * The words `status` takes in every `--json` result, with what each means: the one place they are
 * defined. `status` says how the command itself ended, and each word goes with one exit code, so
 * a script may test either. It never describes the archive: `icloud-s3 status` answers `ok`
 * whenever it could read the state, and its fields (`signInNeeded`, `trust`) say what needs a
 * person. docs/commands.md ("`status` in `--json` results") prints this table;
 * test/unit/cli-result-status.test.ts keeps the two equal and test/e2e/cli-json-status.test.ts
 * runs every command against it.
 *
 * Adding a command: reuse a word when the meaning is the same (`ok` for "done, nothing to act
 * on") and add the command to its `commands`, else add a word here with its exit code and
 * meaning; then copy the row test/unit/cli-result-status.test.ts prints into docs/commands.md.
 * Words are never renamed: scripts test them (the sync words kept their camelCase spelling from
 * `outcome`, which they equal).
 */
import { EXIT } from './exit-codes.ts';

export interface StatusWord {
  /** The exit code that goes with the word; `error` carries its own in `exitCode`. */
  readonly exit: number | 'exitCode';
  /** The commands that answer it (`*`: every one). `demo` prints the sync words per run. */
  readonly commands: readonly string[];
  readonly meaning: string;
}

export const RESULT_STATUS = {
  ok: {
    exit: EXIT.ok,
    commands: ['status', 'verify', 'library', 'debug records', 'rebuild-state'],
    meaning: 'done, and nothing to act on (`verify`: everything agrees)',
  },
  'signed-in': {
    exit: EXIT.ok,
    commands: ['login'],
    meaning: 'signed in afresh; the session is stored',
  },
  'already-signed-in': {
    exit: EXIT.ok,
    commands: ['login'],
    meaning: 'the stored session still works; no sign-in (only the remembered password decided again)',
  },
  succeeded: {
    exit: EXIT.ok,
    commands: ['sync', 'demo'],
    meaning: 'iCloud had changes, and all of them are archived',
  },
  idle: {
    exit: EXIT.ok,
    commands: ['sync', 'demo'],
    meaning: 'nothing changed in iCloud; nothing was downloaded',
  },
  dryRun: {
    exit: EXIT.ok,
    commands: ['sync'],
    meaning: '`--dry-run`: what a run would do; nothing was written or downloaded',
  },
  repaired: {
    exit: EXIT.ok,
    commands: ['verify'],
    meaning:
      '`verify --repair` found differences and repaired them all (`--aws`: queued them for the workers); `repair` says what it did, and a second verify confirms',
  },
  serving: {
    exit: EXIT.ok,
    commands: ['local serve'],
    meaning: 'the archive is being served at `endpoint` until Ctrl-C (then exit 0)',
  },
  partial: {
    exit: EXIT.failure,
    commands: ['sync', 'demo'],
    meaning:
      'the run ended, but some work failed or is left (`failures`, `deadLetters`); the next run retries it',
  },
  differences: {
    exit: EXIT.differences,
    commands: ['verify'],
    meaning: 'the check ran to its end and found differences (with `--repair`: some remain)',
  },
  reauthRequired: {
    exit: EXIT.needsLogin,
    commands: ['sync', 'demo'],
    meaning: 'stopped: iCloud needs a person to sign in again; `error` (`needs-login`) says what to run',
  },
  deletionRefused: {
    exit: EXIT.failure,
    commands: ['sync'],
    meaning:
      'stopped: mirror refused a mass deletion (nothing past the refused page deleted); `error` (`deletion-refused`) says why and what was queued before',
  },
  error: {
    exit: 'exitCode',
    commands: ['*'],
    meaning:
      'failed; `error` is { code, message, hint } and `exitCode` the exit code (1 to 4, or 130 on Ctrl-C, 143 on SIGTERM)',
  },
} as const satisfies Record<string, StatusWord>;

export type ResultStatus = keyof typeof RESULT_STATUS;

/** A `--json` result: one of the words above, then the command's own fields. */
export interface JsonResult {
  readonly status: ResultStatus;
  readonly [field: string]: unknown;
}

export function isResultStatus(word: unknown): word is ResultStatus {
  return typeof word === 'string' && Object.hasOwn(RESULT_STATUS, word);
}
