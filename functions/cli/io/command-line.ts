/**
 * The command line a person typed, as a command to paste again with something added: what a
 * "Run: …" hint prints when the next step is the same command with one more option
 * (`verify` → `verify --repair`). Written with `npx icloud-s3`, as the README and docs are.
 */

/** How a person runs the CLI in a checkout (no global install): every hint writes commands so. */
export const CLI_COMMAND = 'npx icloud-s3';

/** `icloud-s3 login` (as the pipeline names a next step) as a person types it: `npx icloud-s3 login`. */
export function asTyped(command: string): string {
  return command.startsWith('icloud-s3 ') ? `npx ${command}` : command;
}

/** A word quoted for a POSIX shell when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function sameCommandWith(extra: string, argv: readonly string[] = process.argv): string {
  return [CLI_COMMAND, ...argv.slice(2).map(shellWord), ...(extra ? [extra] : [])].join(' ');
}
