/**
 * What every command gets from the global options: output, logger, the iCloud endpoint, the
 * session store, and the trace observer when the command was given `--trace`. Built once per run.
 */

import type { Command } from 'commander';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import type { ExchangeObserver } from '#adapters/icloud/http/types.ts';
import { fileSessionStore, icloudEndpoint } from '#compose/cli.ts';
import type { SessionStore } from '#ports/session-store.ts';
import { ENV } from '#shared/env-names.ts';
import { createLogger, type Logger } from '#shared/logger.ts';
import { Output } from './io/output.ts';
import { openTrace } from './io/trace-option.ts';

export interface GlobalOptions {
  readonly endpoint?: string;
  readonly sessionFile?: string;
  readonly json?: boolean;
  readonly local?: string;
  readonly verbose?: boolean;
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

export function cliContext(command: Command): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const output = new Output({ json: Boolean(options.json) });
  const logger = createLogger({ level: options.verbose ? 'DEBUG' : 'SILENT', destination: 'stderr' });
  const store = fileSessionStore(options.sessionFile);
  let endpoint: Promise<IcloudEndpoint> | undefined;
  return {
    output,
    logger,
    store,
    ...(options.trace ? { observer: openTrace(options.trace, command.name(), output) } : {}),
    endpoint: () => {
      endpoint ??= icloudEndpoint(options.endpoint ?? process.env[ENV.icloudEndpoint]);
      return endpoint;
    },
  };
}
