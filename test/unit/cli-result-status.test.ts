/**
 * The `status` vocabulary of `--json` results is defined once (functions/cli/io/result-status.ts)
 * and printed in docs/commands.md: the table there is exactly the module's, word for word.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../functions/cli/command-registry.ts';
import { isResultStatus, RESULT_STATUS } from '../../functions/cli/io/result-status.ts';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'commands.md'), 'utf8');

/** The table rows as docs/commands.md writes them. */
function expectedRows(): string[] {
  return Object.entries(RESULT_STATUS).map(([word, w]) => {
    const exit = w.exit === 'exitCode' ? '`exitCode`' : String(w.exit);
    const commands = w.commands.map((c) => (c === '*' ? 'every command' : `\`${c}\``)).join(', ');
    return `| \`${word}\` | ${exit} | ${commands} | ${w.meaning} |`;
  });
}

function documentedRows(): string[] {
  const table = DOC.split('<!-- status-vocabulary -->')[1]?.split('<!-- /status-vocabulary -->')[0] ?? '';
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `') && !line.startsWith('| `status` |'))
    .map((line) => line.trim());
}

/** `sync`, `local serve`, `debug records`: every command that runs something, by its full name. */
function leafNames(command: Command, prefix: string[] = []): string[] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    const nested = leafNames(sub, path);
    return nested.length > 0 ? nested : [path.join(' ')];
  });
}

describe('the status vocabulary', () => {
  it('names, for every command, the words it answers (a new command must say which)', async () => {
    const program = new Command('icloud-s3');
    for (const descriptor of COMMANDS) program.addCommand(await descriptor.load());
    const answering = new Set(Object.values(RESULT_STATUS).flatMap((w) => w.commands as readonly string[]));
    expect(leafNames(program).filter((name) => !answering.has(name))).toEqual([]);
  });

  it('docs/commands.md lists every word with its exit code, commands and meaning', () => {
    expect(documentedRows()).toEqual(expectedRows());
  });

  it('gives each word one exit code; only error carries its own', () => {
    for (const [word, w] of Object.entries(RESULT_STATUS)) {
      if (word === 'error') expect(w.exit).toBe('exitCode');
      else expect([0, 1, 3, 5]).toContain(w.exit);
    }
  });

  it('keeps the words scripts already test', () => {
    for (const word of ['ok', 'error', 'signed-in', 'already-signed-in', 'differences'])
      expect(isResultStatus(word)).toBe(true);
    for (const word of ['succeeded', 'partial', 'idle', 'dryRun', 'reauthRequired', 'deletionRefused'])
      expect(isResultStatus(word)).toBe(true);
    expect(isResultStatus('toString')).toBe(false);
  });
});
