/**
 * Every command's `--help` examples are commands a person can paste in a checkout: `npx icloud-s3 …`,
 * as the README and docs write them (there is no global install), never a bare `icloud-s3 …`.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../functions/cli/command-registry.ts';

function leaves(command: Command, prefix: string[] = []): { name: string; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    const nested = leaves(sub, path);
    return nested.length > 0 ? nested : [{ name: path.join(' '), command: sub }];
  });
}

/** What `--help` prints, the text added after the options (examples, exit codes) included. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

/** `icloud-s3 <word>` not preceded by `npx ` (paths like `~/.config/icloud-s3/` are not commands). */
const BARE = /(?<!npx )(?<![\w./-])icloud-s3 (?=[a-z])/;

const program = new Command('icloud-s3');
for (const descriptor of COMMANDS) program.addCommand(await descriptor.load());

describe('help examples', () => {
  it.each(leaves(program))('icloud-s3 $name --help writes its examples as npx icloud-s3', ({ command }) => {
    const help = helpOf(command);
    const body = help.split('\n').filter((line) => !line.startsWith('Usage:'));
    expect(body.filter((line) => BARE.test(line))).toEqual([]);
    if (/^Examples:$/m.test(help)) expect(help).toMatch(/^ {2}(\w+=\S+ )?(npx icloud-s3|npm start)\b/m);
  });

  it('catches a bare example', () => {
    expect(BARE.test('  icloud-s3 sync --dry-run')).toBe(true);
    expect(BARE.test('  npx icloud-s3 sync --dry-run')).toBe(false);
    expect(BARE.test('(default ~/.config/icloud-s3/session.json)')).toBe(false);
  });
});
