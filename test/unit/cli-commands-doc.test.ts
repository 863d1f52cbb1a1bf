/**
 * docs/commands.md against the CLI's own help: every command, and every option its `--help`
 * lists, is documented there. A new option without a line in the docs fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../functions/cli/command-registry.ts';
import { buildProgram } from '../../functions/cli/main.ts';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'commands.md'), 'utf8');

/** `sync`, `local serve`, `debug records`: every command that runs something, by its full name. */
function commandsOf(command: Command, prefix: string[] = []): { name: string; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    const nested = commandsOf(sub, path);
    return nested.length > 0 ? nested : [{ name: path.join(' '), command: sub }];
  });
}

/** The long options a command's `--help` lists (`--help` itself aside). */
function optionsInHelp(help: string): string[] {
  const section = help.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)]
    .map((m) => m[1] as string)
    .filter((flag) => flag !== '--help');
}

const program = await buildProgram(['node', 'icloud-s3']);
/** Every command loaded (the program itself loads only the one argv names). */
const everyCommand = new Command('icloud-s3');
for (const descriptor of COMMANDS) everyCommand.addCommand(await descriptor.load());

describe('docs/commands.md', () => {
  it.each(commandsOf(everyCommand))(
    'documents `icloud-s3 $name` and every option its --help lists',
    ({ name, command }) => {
      expect(DOC, `docs/commands.md has no section for icloud-s3 ${name}`).toContain(
        `## \`icloud-s3 ${name}`,
      );
      const options = optionsInHelp(command.helpInformation());
      const section = DOC.split(`## \`icloud-s3 ${name}`)[1]?.split(/^## /m)[0] ?? '';
      const missing = options.filter((flag) => !new RegExp(`${flag}(?![\\w-])`).test(section));
      expect(missing, `options of icloud-s3 ${name} missing from its section`).toEqual([]);
    },
  );

  it('documents every global option', () => {
    const missing = optionsInHelp(program.helpInformation()).filter(
      (flag) => !new RegExp(`${flag}(?![\\w-])`).test(DOC),
    );
    expect(missing).toEqual([]);
  });
});
