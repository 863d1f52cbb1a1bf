/**
 * The one logger factory of icloud-s3 (Lambdas and CLI): Powertools structured JSON with fixed
 * short messages and data in fields. Every string that reaches a log line passes `scrubSecrets`,
 * and `Secret` values print as `[redacted]`, so a token slipped into a field still never leaks.
 */
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { REDACTED, Secret, scrubSecrets } from './redact.ts';

export type { Logger } from '@aws-lambda-powertools/logger';

export interface LoggerOptions {
  /** Powertools service name (the `service` field). */
  readonly serviceName?: string;
  /** `DEBUG`, `INFO`, `WARN`, `ERROR`, `SILENT`... Defaults to Powertools' env handling, then `INFO`. */
  readonly level?: LogLevel;
  /** Where lines go. Lambdas log to stdout (CloudWatch); the CLI logs to stderr so stdout stays its output. */
  readonly destination?: 'stdout' | 'stderr';
}

/** JSON replacer applied to every log line. */
export function redactingReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Secret) return REDACTED;
  if (typeof value === 'string') return scrubSecrets(value);
  if (value instanceof Error) {
    return { name: value.name, message: scrubSecrets(value.message) };
  }
  return value;
}

class StderrLogger extends Logger {
  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    process.stderr.write(`${JSON.stringify(log.getAttributes(), this.getJsonReplacer())}\n`);
  }
}

/** Builds a logger. Create one per composition root (Lambda module, CLI run) and pass it down. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const constructorOptions = {
    serviceName: options.serviceName ?? 'icloud-s3',
    jsonReplacerFn: redactingReplacer,
    ...(options.level ? { logLevel: options.level } : {}),
  };
  return options.destination === 'stderr'
    ? new StderrLogger(constructorOptions)
    : new Logger(constructorOptions);
}
