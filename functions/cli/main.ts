/**
 * The `icloud-s3` command. `buildProgram()` assembles it from `COMMANDS` (adding a command is one
 * line there); `main()` runs it and maps failures to the documented exit codes (docs/login.md).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { quietNodeVersionWarning } from '#shared/quiet-node-warning.ts';
import { debugCommand } from './commands/debug-records.ts';
import { demoCommand } from './commands/demo.ts';
import { libraryCommand } from './commands/library.ts';
import { localCommand } from './commands/local-serve.ts';
import { loginCommand } from './commands/login.ts';
import { statusCommand } from './commands/status.ts';
import { syncCommand } from './commands/sync.ts';
import { verifyCommand } from './commands/verify.ts';
import { EXIT, exitCodeFor } from './io/exit-codes.ts';
import { Output } from './io/output.ts';

/** Every subcommand, in help order. Other commands register here. */
export const COMMANDS: readonly (() => Command)[] = [
  loginCommand,
  syncCommand,
  statusCommand,
  verifyCommand,
  localCommand,
  libraryCommand,
  debugCommand,
  demoCommand,
];

export function buildProgram(): Command {
  const program = new Command('icloud-s3')
    .description('Archive your iCloud Photos library into your own S3 bucket.')
    .addOption(
      new Option('--endpoint <endpoint>', 'apple, apple-cn, or a simulator control URL').env(
        'ICLOUD_ENDPOINT',
      ),
    )
    .option(
      '--session-file <path>',
      'where the iCloud session is kept (default ~/.config/icloud-s3/session.json)',
    )
    .option('--json', 'print one JSON result object on stdout')
    .option('--local <dir>', 'run against a local archive directory (commands that support it)')
    .option('--verbose', 'log requests (secrets redacted) to stderr')
    .showHelpAfterError()
    .exitOverride();
  for (const make of COMMANDS) program.addCommand(make().exitOverride());
  return program;
}

/** Runs the CLI and returns the exit code (never throws). */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  quietNodeVersionWarning();
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    // A command that finished but has something to report (failed assets) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const output = new Output({ json: argv.includes('--json') });
    const code = exitCodeFor(error);
    const message = describeError(error);
    const action = (error as { action?: unknown }).action;
    output.error(message, typeof action === 'string' ? `Run: ${action}` : undefined);
    const condition = (error as { condition?: unknown }).condition;
    output.result({
      status: 'error',
      error: error instanceof Error ? error.name : 'Error',
      message,
      ...(typeof condition === 'string' ? { condition } : {}),
      exitCode: code,
    });
    return code;
  }
}

/** The error's message, plus the network code behind a bare `fetch failed`. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main();
