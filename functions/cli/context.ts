/**
 * What every command gets from the global options: output, logger, the iCloud endpoint, the
 * session store, and the trace observer when the command was given `--trace`. Built once per run.
 */

import type { Command } from 'commander';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import type { ExchangeObserver } from '#adapters/icloud/http/types.ts';
import { parseSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { fileSessionStore, icloudEndpoint } from '#compose/cli.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { SessionStore } from '#ports/session-store.ts';
import { ENV } from '#shared/env-names.ts';
import { createLogger, type Logger } from '#shared/logger.ts';
import { demoFor, restartDemoSimulator } from './demo-path.ts';
import { Output } from './io/output.ts';
import { openTrace } from './io/trace-option.ts';

export interface GlobalOptions {
  readonly endpoint?: string;
  readonly sessionFile?: string;
  readonly json?: boolean;
  readonly local?: string;
  readonly verbose?: boolean;
  /** A command's own `--aws`: the session is the stack's, not a file here. */
  readonly aws?: boolean;
  /** `--trace FILE` of login, sync and library. */
  readonly trace?: string;
}

export interface CliContext {
  readonly output: Output;
  readonly logger: Logger;
  /** Where the session is kept: the local file by default; `login --aws` swaps in the stack's secret. */
  readonly store: SessionStore;
  /** Records every exchange with Apple, redacted, when the command was given `--trace`. */
  readonly observer?: ExchangeObserver;
  endpoint(): Promise<IcloudEndpoint>;
}

/** The endpoint a stored session was signed in against; nothing when there is none or it is unreadable. */
async function storedEndpoint(store: SessionStore): Promise<string | undefined> {
  const stored = await store.load().catch(() => undefined);
  if (stored === undefined) return undefined;
  try {
    return parseSessionDocument(stored.document).endpoint;
  } catch {
    return undefined;
  }
}

/**
 * `--endpoint`, else `$ICLOUD_ENDPOINT`, else the endpoint the session was signed in against (a
 * demo's simulator is started again when it has stopped), else Apple.
 */
async function resolveCliEndpoint(
  explicit: string | undefined,
  store: (SessionStore & { readonly path: string }) | undefined,
): Promise<IcloudEndpoint> {
  if (explicit !== undefined || store === undefined) return icloudEndpoint(explicit);
  const remembered = await storedEndpoint(store);
  if (remembered === undefined || remembered === 'apple' || remembered === 'apple-cn')
    return icloudEndpoint(remembered);
  try {
    return await icloudEndpoint(remembered);
  } catch (error) {
    if (!(error instanceof UnexpectedResponseError)) throw error;
    const restarted = await restartDemoSimulator(store.path);
    if (restarted === undefined) {
      throw new UnexpectedResponseError(
        `the session at ${store.describe()} was signed in against the simulator at ${remembered}, which is not running: start it again, or choose another with --endpoint`,
        { cause: error },
      );
    }
    return icloudEndpoint(restarted);
  }
}

/**
 * `demo: false` for commands that must never land in the demo's folder (`login` signs a person
 * in to their own account).
 */
export function cliContext(command: Command, use: { readonly demo?: boolean } = {}): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const output = new Output({ json: Boolean(options.json) });
  const logger = createLogger({ level: options.verbose ? 'DEBUG' : 'SILENT', destination: 'stderr' });
  const demo = use.demo !== false ? demoFor(options) : undefined;
  if (demo !== undefined && !output.json)
    output.info(
      `Using the demo's archive and session in ${demo.dir} (npm start left them; yours go to ./.icloud-s3 once you sign in).`,
    );
  const store = fileSessionStore(options.sessionFile ?? demo?.session);
  let endpoint: Promise<IcloudEndpoint> | undefined;
  return {
    output,
    logger,
    store,
    ...(options.trace ? { observer: openTrace(options.trace, command.name(), output) } : {}),
    endpoint: () => {
      // With --aws the session is the stack's (Apple's, unless --endpoint says otherwise), so the
      // file here says nothing about where it was signed in.
      endpoint ??= resolveCliEndpoint(
        options.endpoint ?? process.env[ENV.icloudEndpoint],
        options.aws ? undefined : store,
      );
      return endpoint;
    },
  };
}
