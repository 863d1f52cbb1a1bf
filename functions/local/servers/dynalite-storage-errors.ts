/**
 * A failed LevelDB read or write answered as DynamoDB's 500 `InternalServerError`, naming
 * LevelDB's reason (`IO error: …/000012.log: No space left on device`). dynalite sends an error
 * only when it carries a `statusCode`; any other error from its database it throws inside a
 * callback (dynalite/index.js, `if (err) throw err`), where nothing catches it: a disk that filled
 * up during a sync ended the whole CLI with a stack trace and, under `--json`, no JSON at all.
 * Answered as a 500, the SDK retries it and then throws it to the caller like any AWS error, and
 * the CLI reports it (`disk-full` when the disk is full: cli/io/error-report.ts).
 *
 * Errors dynalite makes itself (its `NotFoundError`, errors that already carry a `statusCode`)
 * pass unchanged.
 */
import type { Callback, DynaliteError, DynaliteStore } from './dynalite-modules.ts';

const INTERNAL_SERVER_ERROR = 'com.amazonaws.dynamodb.v20120810#InternalServerError';

type CallbackMethod = (...args: unknown[]) => unknown;

/** `error` with the 500 reply dynalite sends for it, or unchanged when dynalite already knows it. */
export function asServerError(error: unknown): unknown {
  if (error === null || error === undefined) return error;
  if (!(error instanceof Error)) return asServerError(new Error(String(error)));
  if (typeof (error as Partial<DynaliteError>).statusCode === 'number' || error.name === 'NotFoundError')
    return error;
  // LevelDB's own reason is on the cause when a wrapper says less ("Database failed to open").
  const cause = (error as { cause?: unknown }).cause;
  const reason =
    cause instanceof Error && cause.message !== error.message
      ? `${error.message}: ${cause.message}`
      : error.message;
  return Object.assign(error, {
    statusCode: 500,
    body: { __type: INTERNAL_SERVER_ERROR, message: `local DynamoDB storage failed: ${reason}` },
  });
}

/** The store's database methods (every table's reads and writes go through them) answer failures as 500s. */
export function answerStorageFailures(store: DynaliteStore): void {
  const db = store.db as unknown as Record<'get' | 'put' | 'del' | 'batch', CallbackMethod>;
  for (const name of ['get', 'put', 'del', 'batch'] as const) {
    const method = db[name].bind(db);
    db[name] = (...args: unknown[]) => {
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback !== 'function') return method(...args);
      const answered: Callback = (error, value) => (callback as Callback)(asServerError(error), value);
      return method(...args.slice(0, last), answered);
    };
  }
}
