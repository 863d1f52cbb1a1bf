/**
 * `--trace FILE` (login, sync, library): every exchange with Apple, secrets removed, written to
 * FILE in the recorded-fixture shape, for a bug report (docs/login.md). The file is valid after each
 * exchange and closed when the process exits, whatever the outcome.
 */
import { Option } from 'commander';
import { TraceRecorder } from '#adapters/icloud/http/trace-recorder.ts';
import type { ExchangeObserver } from '#adapters/icloud/http/types.ts';
import { TraceFile } from '#adapters/local/trace-file.ts';
import type { Output } from './output.ts';
import { packageVersion } from './version.ts';

/** Which icloud-s3 made the trace: the first thing a maintainer asks. */
const VERSION = packageVersion();

export function traceOption(): Option {
  return new Option(
    '--trace <file>',
    'write every exchange with Apple to FILE with passwords, codes, tokens, cookies and signed URLs removed, to attach to a bug report (see docs/login.md)',
  );
}

/** Opens the trace file and returns the observer that fills it. */
export function openTrace(path: string, commandName: string, output: Output): ExchangeObserver {
  const file = new TraceFile(
    path,
    `icloud-s3 ${VERSION} ${commandName} --trace on Node ${process.version}, started ${new Date().toISOString()}`,
  );
  output.info(`Writing a trace of every exchange with Apple, secrets removed, to ${path}.`);
  process.once('exit', () => {
    file.close();
    output.info(
      `Trace: ${file.count} exchange(s) with Apple in ${path}. Read it before attaching it to a bug report.`,
    );
  });
  return new TraceRecorder(file);
}
