/**
 * The `icloud-s3` command. `buildProgram()` assembles it from the descriptors in
 * `command-registry.ts` (adding a command is one entry there), loading only the command argv names;
 * `main()` runs it and maps failures to the documented exit codes (docs/login.md).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Help, Option } from 'commander';
import { quietNodeVersionWarning } from '#shared/quiet-node-warning.ts';
import { COMMANDS, commandNamed } from './command-registry.ts';
import { exitQuietlyOnBrokenPipe } from './io/broken-pipe.ts';
import { runCommandEndTasks } from './io/command-end.ts';
import { CLI_COMMAND } from './io/command-line.ts';
import { EXIT } from './io/exit-codes.ts';
import { Output } from './io/output.ts';
import { packageVersion } from './io/version.ts';

/**
 * The program for `argv`: the command argv names is the real one, loaded now; every other command
 * is a stand-in with its name and description, enough for the program's help and for commander's
 * "unknown command" suggestions.
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const named = commandNamed(argv);
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
    .exitOverride()
    .configureHelp({ subcommandTerm: (command) => termOf(command) });
  for (const descriptor of COMMANDS) {
    const command =
      descriptor === named
        ? await descriptor.load()
        : new Command(descriptor.name).description(descriptor.description);
    program.addCommand(command.exitOverride());
  }
  // Nested commands too (`debug records`): commander would otherwise exit by itself, with code 1.
  for (const command of everyCommand(program)) command.exitOverride();
  return program;
}

/** A stand-in has no options to show, so the program's help takes its term from the descriptor. */
function termOf(command: Command): string {
  const descriptor = COMMANDS.find((c) => c.name === command.name());
  return descriptor !== undefined && command.parent?.parent === null
    ? descriptor.term
    : new Help().subcommandTerm(command);
}

/** Every command of the tree, subcommands included (`debug records`, `local serve`). */
function everyCommand(command: Command): Command[] {
  return [command, ...command.commands.flatMap(everyCommand)];
}

/** `npx icloud-s3 sync` when argv names a command, for the `--help` hint. */
function commandLine(program: Command, argv: readonly string[]): string {
  const args = argv.slice(2);
  const names: string[] = [CLI_COMMAND];
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
  const program = await buildProgram(argv);
  const json = argv.includes('--json');
  // Under --json a usage error is the JSON error object on stdout, not commander's text.
  if (json) for (const command of everyCommand(program)) command.configureOutput({ outputError: () => {} });
  try {
    await program.parseAsync([...argv]);
    // A command that finished but has something to report (failed assets) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return EXIT.ok;
    // Loaded only on failure: it imports the config schema, hence zod, which --help does without.
    const { errorResult, reportError } = await import('./io/error-report.ts');
    const report = reportError(error, commandLine(program, argv));
    const output = new Output({ json });
    // Commander already printed its message (and the help) for a person.
    if (!(error instanceof CommanderError)) output.error(report.message, report.hint ?? undefined);
    output.result(errorResult(report));
    return report.exitCode;
  } finally {
    await runCommandEndTasks();
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
