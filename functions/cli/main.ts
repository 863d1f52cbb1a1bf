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
import { stopRestartedSimulators } from './demo-path.ts';
import { exitQuietlyOnBrokenPipe } from './io/broken-pipe.ts';
import { errorResult, reportError } from './io/error-report.ts';
import { EXIT } from './io/exit-codes.ts';
import { Output } from './io/output.ts';
import { packageVersion } from './io/version.ts';

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
    .version(packageVersion(), '-V, --version', 'print the version of icloud-s3')
    .showHelpAfterError()
    .exitOverride();
  for (const make of COMMANDS) program.addCommand(make().exitOverride());
  // Nested commands too (`debug records`): commander would otherwise exit by itself, with code 1.
  for (const command of everyCommand(program)) command.exitOverride();
  return program;
}

/** Every command of the tree, subcommands included (`debug records`, `local serve`). */
function everyCommand(command: Command): Command[] {
  return [command, ...command.commands.flatMap(everyCommand)];
}

/** `icloud-s3 sync` when argv names a command, for the `--help` hint. */
function commandLine(program: Command, argv: readonly string[]): string {
  const args = argv.slice(2);
  const names: string[] = ['icloud-s3'];
  let at = program;
  for (const arg of args) {
    const sub = at.commands.find((c) => c.name() === arg);
    if (sub === undefined) continue;
    names.push(arg);
    at = sub;
  }
  return names.join(' ');
}

/** Runs the CLI and returns the exit code (never throws). */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  quietNodeVersionWarning();
  exitQuietlyOnBrokenPipe();
  const program = buildProgram();
  const json = argv.includes('--json');
  // Under --json a usage error is the JSON error object on stdout, not commander's text.
  if (json) for (const command of everyCommand(program)) command.configureOutput({ outputError: () => {} });
  try {
    await program.parseAsync([...argv]);
    // A command that finished but has something to report (failed assets) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return EXIT.ok;
    const report = reportError(error, commandLine(program, argv));
    const output = new Output({ json });
    // Commander already printed its message (and the help) for a person.
    if (!(error instanceof CommanderError)) output.error(report.message, report.hint ?? undefined);
    output.result(errorResult(report));
    return report.exitCode;
  } finally {
    await stopRestartedSimulators();
  }
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
